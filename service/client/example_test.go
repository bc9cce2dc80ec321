package client_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/wsgateway/wsgateway/service/client"
)

func Example() {
	ctx := context.Background()
	c := client.New(client.Options{
		URL:    "ws://localhost:8080/ws",
		Token:  func(context.Context) (string, error) { return os.Getenv("WSG_TOKEN"), nil },
		Logger: slog.Default(),
		OnPublication: func(p client.Publication) {
			slog.Info("publication", "channel", p.Channel, "offset", p.Offset, "data", string(p.Data))
		},
		OnRecoveryFailed: func(channel string) {
			// Publications were missed: reload the channel's state from the
			// application's own source of truth.
		},
	})
	_ = c.Subscribe(ctx, "chat:lobby") // remembered; sent once connected
	c.Start(ctx)
	defer c.Close()

	if _, err := c.Publish(ctx, "chat:lobby", map[string]string{"text": "hello"}, "msg-1"); err != nil {
		slog.Warn("publish", "err", err) // retried with key msg-1 until ctx ended
	}
}

// A message to the backend workers of topic "orders", waiting for their
// reply (the server needs --redis-url, and the token a send claim).
func ExampleClient_SendAndWait() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := client.New(client.Options{
		URL:   "ws://localhost:8080/ws",
		Token: func(context.Context) (string, error) { return os.Getenv("WSG_TOKEN"), nil },
		// Replies no SendAndWait takes, such as those to a plain Send.
		OnReply: func(r client.Reply) { slog.Info("reply", "id", r.ID, "data", string(r.Data)) },
	})
	c.Start(ctx)
	defer c.Close()

	r, err := c.SendAndWait(ctx, "orders", map[string]any{"sku": "A1", "qty": 2}, client.SendOptions{IdempotencyKey: "order-7f3a"})
	switch {
	case err != nil:
		slog.Warn("send", "err", err) // rate_limited, unavailable, or ctx ended
	case r.Err != nil:
		slog.Warn("the worker refused", "code", r.Err.Code, "message", r.Err.Message)
	default:
		slog.Info("accepted", "data", string(r.Data))
	}
}
