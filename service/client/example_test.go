package client_test

import (
	"context"
	"log/slog"
	"os"

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
