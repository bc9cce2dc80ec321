package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/worker"
)

// echo answers each message with the data it carried.
type echo struct {
	work   time.Duration
	reply  bool   // an API URL is configured
	record string // a Redis list for tests, or ""
	name   string
	rdb    redis.UniversalClient
	log    *slog.Logger
}

func (e *echo) handle(ctx context.Context, m *worker.Message) error {
	e.note(ctx, "start", m)
	if e.work > 0 {
		select {
		case <-time.After(e.work):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !e.reply {
		e.log.Info("message", "id", m.ID, "user", m.User, "data", string(m.Data))
		e.note(ctx, "end", m)
		return nil
	}
	answer := map[string]any{"echo": m.Data, "id": m.ID}
	err := m.Reply(ctx, answer)
	if errors.Is(err, worker.ErrSenderGone) {
		// Recoverable: the client reads it from its user channel on reconnect.
		err = m.Publish(ctx, "user:"+m.User, answer)
	}
	if err != nil && !errors.Is(err, worker.ErrSenderGone) {
		return err
	}
	e.note(ctx, "end", m)
	return nil
}

func (e *echo) note(ctx context.Context, what string, m *worker.Message) {
	if e.record == "" {
		return
	}
	if err := e.rdb.RPush(ctx, e.record, what+" "+e.name+" "+string(m.Data)).Err(); err != nil {
		e.log.Warn("recording failed", "err", err)
	}
}
