package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/wsgateway/wsgateway/service/worker"
)

// A whole worker: the README shows this one.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	rdb, err := worker.NewRedis(os.Getenv("WSG_REDIS_URL")) // the gateway's --redis-url
	if err != nil {
		log.Fatal(err)
	}
	err = worker.Run(ctx, worker.Options{
		Redis:  rdb,
		Topic:  "orders",
		APIURL: os.Getenv("WSG_API_URL"), // the gateway's API port, for Reply and Publish
		APIKey: os.Getenv("WSG_API_KEY"),
	}, func(ctx context.Context, m *worker.Message) error {
		var order struct{ Item string }
		if err := json.Unmarshal(m.Data, &order); err != nil {
			return worker.Permanent(err) // straight to the dead letters
		}
		answer := map[string]string{"status": "accepted", "item": order.Item}
		err := m.Reply(ctx, answer) // a reply push to the sender's connection
		if errors.Is(err, worker.ErrSenderGone) {
			err = m.Publish(ctx, "user:"+m.User, answer) // recovered on reconnect
		}
		return err // an error retries; nil acknowledges
	})
	if err != nil {
		log.Fatal(err)
	}
}
