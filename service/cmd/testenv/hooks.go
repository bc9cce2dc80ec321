package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wsgateway/wsgateway/examples/backend"
	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// exampleHooks is the reference backend's hooks file, relative to the
// module's root, and exampleURL the backend address written in it, which
// -hooks-example replaces with the backend it starts.
const (
	exampleHooks = "examples/backend/hooks.yaml"
	exampleURL   = "http://127.0.0.1:8090/wsgateway"
)

// Example* are what the reference backend of -hooks-example knows: the
// session cookies that sign users in (session=s1 is alice), the banned
// word that refuses a publish (app_banned_word) and the masked word it
// stars out. Each client test that signs a session out (session:logout)
// should use its own session, since the backend forgets it.
var (
	exampleSessions = map[string]string{"s1": "alice", "s2": "bob", "s3": "carol", "s4": "dave"}
	exampleBanned   = []string{"spam"}
	exampleMasked   = []string{"darn"}
)

// startBackend serves the reference backend (examples/backend) in this
// process on a free port of 127.0.0.1, under /wsgateway/, and writes the
// example's hooks.yaml pointed at it into a temporary directory. It returns
// the file, for every node's --hooks-config. The server and the directory
// are stopped and removed with the environment.
func (e *env) startBackend() (string, error) {
	root, err := gatewaytest.ModuleRoot()
	if err != nil {
		return "", err
	}
	shipped, err := os.ReadFile(filepath.Join(root, exampleHooks))
	if err != nil {
		return "", fmt.Errorf("hooks example: %w", err)
	}
	if !strings.Contains(string(shipped), exampleURL) {
		return "", fmt.Errorf("hooks example: %s no longer names %s, the address testenv replaces", exampleHooks, exampleURL)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("hooks example: listen: %w", err)
	}
	w, err := e.logs.Writer("backend")
	if err != nil {
		l.Close()
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle("/wsgateway/", backend.New(backend.Options{Sessions: exampleSessions, Banned: exampleBanned,
		Masked: exampleMasked, Logger: slog.New(slog.NewJSONHandler(w, nil))}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }() // Serve ends with ErrServerClosed at Shutdown
	e.closers.Add(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("hooks example: stop the backend: %w", err)
		}
		return nil
	})
	e.backend = "http://" + l.Addr().String()
	dir, err := os.MkdirTemp("", "testenv-hooks-")
	if err != nil {
		return "", err
	}
	e.closers.Add(func() error { return os.RemoveAll(dir) })
	file := filepath.Join(dir, "hooks.yaml")
	conf := strings.ReplaceAll(string(shipped), exampleURL, e.backend+"/wsgateway")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		return "", fmt.Errorf("hooks example: %w", err)
	}
	return file, nil
}
