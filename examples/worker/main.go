// Command worker is an example wsgateway worker (service/worker): it takes
// the messages clients `send` to a topic and answers each sender with the
// data it sent, or, when the sender has left, publishes the answer to the
// sender's user channel, which the client recovers on reconnect.
//
//	go run ./examples/worker --redis-url redis://localhost:6379 --topic orders \
//	    --api-url http://localhost:8081 --api-key "$WSG_API_KEY"
//
// SIGTERM or SIGINT drains it: the message in hand is finished, the leases
// are released, and another worker takes over at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wsgateway/wsgateway/service/worker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		stop()
		os.Exit(1)
	}
}

// run consumes the topic until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis-url", getenv("WSG_REDIS_URL"), "the gateway's Redis (its --redis-url forms); env WSG_REDIS_URL")
	topic := fs.String("topic", "orders", "inbox topic to consume")
	apiURL := fs.String("api-url", getenv("WSG_API_URL"), "the gateway's API base URL; env WSG_API_URL")
	apiKey := fs.String("api-key", getenv("WSG_API_KEY"), "the gateway's API key; env WSG_API_KEY")
	name := fs.String("name", "", "consumer id; default hostname-pid-random")
	metrics := fs.String("metrics-listen", "", "address to serve /metrics on; empty: none")
	work := fs.Duration("work", 0, "pretend each message takes this long (for demos and tests)")
	record := fs.String("record", "", "Redis list to append 'start|end <name> <data>' to around each message (for tests)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *redisURL == "" {
		return errors.New("--redis-url (or WSG_REDIS_URL) is required")
	}
	rdb, err := worker.NewRedis(*redisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	reg := prometheus.NewRegistry()
	if *metrics != "" {
		stopMetrics, err := serveMetrics(*metrics, reg, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	if *name == "" {
		*name = worker.DefaultName()
	}
	h := &echo{work: *work, reply: *apiURL != "", record: *record, name: *name, rdb: rdb, log: log}
	return worker.Run(ctx, worker.Options{
		Redis: rdb, Topic: *topic, Name: *name, APIURL: *apiURL, APIKey: *apiKey,
		Logger: log, Registerer: reg,
	}, h.handle)
}

func serveMetrics(addr string, reg *prometheus.Registry, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server failed", "err", err)
		}
	}()
	return func() { _ = srv.Close() }, nil
}
