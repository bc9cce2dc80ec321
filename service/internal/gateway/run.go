package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsgateway/wsgateway/service/internal/config"
	"github.com/wsgateway/wsgateway/service/internal/hooks"
	"github.com/wsgateway/wsgateway/service/internal/server"
	"github.com/wsgateway/wsgateway/service/internal/telemetry"
)

// Run is the whole wsgateway program; it returns the exit code. version is
// the build's, reported in logs, metrics and traces. A startup error is one
// line on stderr and exit 1; logs go to stdout as JSON.
func Run(ctx context.Context, version string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "token" {
		return runToken(args[1:], getenv, stdout, stderr)
	}
	host, _ := os.Hostname()
	cfg, err := config.Load(args, getenv, host)
	if errors.Is(err, config.ErrHelp) {
		config.Usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	var hooksCfg *hooks.Config // nil: no hook is called
	if cfg.HooksConfig != "" {
		if hooksCfg, err = hooks.Load(cfg.HooksConfig); err != nil {
			fmt.Fprintln(stderr, err) // it names the file and the field
			return 1
		}
	}
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.Level()})))
	tracer, shutdownTracing, err := telemetry.Setup(ctx, getenv, version, cfg.NodeID)
	if err != nil {
		fmt.Fprintf(stderr, "wsgateway: %v\n", err)
		return 1
	}
	defer flushTraces(shutdownTracing, log)
	node, err := build(cfg, hooksCfg, version, log, tracer)
	if err != nil {
		fmt.Fprintf(stderr, "wsgateway: %v\n", err)
		return 1
	}
	defer node.close()

	drainCtx, abortCtx, stop := signals(ctx, log)
	defer stop()
	log.Info("starting", "version", version, "node", cfg.NodeID, "zone", cfg.Zone, "config", cfg)
	if cfg.Dev {
		log.Warn("DEVELOPMENT MODE: anonymous clients have every permission and the API needs no key; never run this in production")
	}
	// The broker keeps delivering while the server drains: its loops stop
	// only after the last connection is closed.
	loopsCtx, stopLoops := context.WithCancel(context.Background())
	loopsDone := make(chan struct{})
	go func() { node.runLoops(loopsCtx); close(loopsDone) }()
	defer func() { stopLoops(); <-loopsDone }()
	switch err := node.server.Run(drainCtx, abortCtx); {
	case errors.Is(err, server.ErrAborted):
		log.Warn("second signal: exiting without finishing the drain")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "wsgateway: %v\n", err)
		return 1
	}
	log.Info("stopped after a clean drain")
	return 0
}

// flushTraces exports the spans still queued, for at most a few seconds.
func flushTraces(shutdown func(context.Context) error, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		log.Warn("flushing traces", "err", err)
	}
}

// signals returns a context cancelled by the first SIGTERM or SIGINT (start
// draining) and one cancelled by the second (stop at once).
func signals(ctx context.Context, log *slog.Logger) (drain, abort context.Context, stop func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	drain, drainNow := context.WithCancel(ctx)
	abort, abortNow := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		for _, cancel := range []context.CancelFunc{drainNow, abortNow} {
			select {
			case sig := <-ch:
				log.Info("signal", "signal", sig.String())
				cancel()
			case <-done:
				return
			}
		}
	}()
	return drain, abort, func() {
		signal.Stop(ch)
		close(done)
		drainNow()
		abortNow()
	}
}
