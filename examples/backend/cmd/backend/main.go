// Command backend runs the reference hooks backend (package backend) on one port:
//
//	go run ./examples/backend/cmd/backend --listen :8080 --sessions s1=alice,s2=bob \
//	    --banned spam --masked darn
//
// and the gateway with examples/backend/hooks.yaml (see examples/backend/README.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wsgateway/wsgateway/examples/backend"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		stop()
		os.Exit(1)
	}
}

// run serves the backend until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":8080", "address to serve the hooks on")
	prefix := fs.String("prefix", "/wsgateway", "path the hooks are under: <prefix>/connect, <prefix>/publish, ...")
	sessions := fs.String("sessions", "", "comma list of session=user: the session cookies that sign users in")
	banned := fs.String("banned", "", "comma list of words that make a publish fail with app_banned_word")
	masked := fs.String("masked", "", "comma list of words starred out of what is published")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := backend.Options{Banned: list(*banned), Masked: list(*masked), Sessions: map[string]string{}}
	for _, kv := range list(*sessions) {
		id, user, ok := strings.Cut(kv, "=")
		if !ok || id == "" || user == "" {
			return fmt.Errorf("--sessions: %q is not session=user", kv)
		}
		opts.Sessions[id] = user
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	opts.Logger = log
	mux := http.NewServeMux()
	mux.Handle(strings.TrimSuffix(*prefix, "/")+"/", backend.New(opts))
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("serving hooks", "listen", *listen, "prefix", *prefix)
	select {
	case err := <-errc:
		return fmt.Errorf("listen %s: %w", *listen, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// list splits a comma list, dropping empty items.
func list(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
