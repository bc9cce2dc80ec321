package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/streams"
)

// Entry is one stream entry as read from a partition.
type Entry struct {
	ID     string            // the entry id in the partition stream
	Fields map[string]string // the entry's fields (streams.Field*)
}

// Batch is what a Consumer's handler gets: entries of one partition, in id
// order, and which run this is (1 for the first; the attempts are counted
// on the batch's first entry).
type Batch struct {
	Part    streams.Part
	Entries []Entry
	Attempt int
}

// Consumer consumes one stream group with one consumer group: leases,
// heartbeat, spreading, adoption, retries and dead letters. Fill in the
// fields and call Run once; the fields must not change afterwards.
type Consumer struct {
	Redis         redis.UniversalClient // required; standalone, Sentinel or Cluster
	Group         string                // the stream group: a topic or streams.Events
	ConsumerGroup string                // default streams.GroupWorkers
	Name          string                // the consumer id; default hostname-pid-random
	MaxAttempts   int                   // failed runs before the dead letters; default 5
	// Backoff is the wait before run attempt+1 after the failed run attempt;
	// default 100 ms doubling up to 10 s.
	Backoff func(attempt int) time.Duration
	// BatchSize is how many entries of a partition a handler call takes;
	// default 1.
	BatchSize int
	// Concurrency bounds the handler calls running at once across
	// partitions; 0 means one per held partition.
	Concurrency  int
	DrainTimeout time.Duration // bound on finishing in-flight handlers; default 30 s
	Logger       *slog.Logger  // default slog.Default()
	Registerer   prometheus.Registerer
	// Handle runs a batch. A nil error acknowledges it; an error retries it,
	// or dead-letters it after MaxAttempts or when IsPermanent. Its context
	// ends when the lease is lost or the drain times out.
	Handle func(ctx context.Context, b Batch) error
	// Dead, if set, runs after a batch was written to the dead letters and
	// before it is acknowledged (the inbox's error reply to the sender).
	Dead func(ctx context.Context, b Batch, err error)

	m        *metrics
	sem      chan struct{}
	mu       sync.Mutex
	held     map[int]*partition // owned by Run's goroutine; mu for readers
	draining chan struct{}      // closed when Run's ctx ends
}

// DefaultName is a consumer id unique enough for one stream group:
// hostname-pid-random.
func DefaultName() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "worker"
	}
	return fmt.Sprintf("%s-%d-%06x", host, os.Getpid(), rand.IntN(1<<24))
}

// DefaultBackoff doubles from 100 ms up to 10 s.
func DefaultBackoff(attempt int) time.Duration {
	d := 100 * time.Millisecond
	for i := 1; i < attempt && d < 10*time.Second; i++ {
		d *= 2
	}
	return min(d, 10*time.Second)
}

func (c *Consumer) setDefaults() error {
	if c.Redis == nil || c.Handle == nil {
		return errors.New("worker: Redis and Handle are required")
	}
	if c.Group != streams.Events && !streams.ValidTopic(c.Group) {
		return fmt.Errorf("worker: invalid topic %q", c.Group)
	}
	if c.ConsumerGroup == "" {
		c.ConsumerGroup = streams.GroupWorkers
	}
	if c.Name == "" {
		c.Name = DefaultName()
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = streams.DefaultMaxAttempts
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("topic", c.Group, "group", c.ConsumerGroup, "consumer", c.Name)
	if c.Concurrency > 0 {
		c.sem = make(chan struct{}, c.Concurrency)
	}
	m, err := newMetrics(c.Registerer, c.Group, c.ConsumerGroup, c.lag)
	if err != nil {
		return err
	}
	c.m = m
	c.held = map[int]*partition{}
	c.draining = make(chan struct{})
	return nil
}

// Run consumes until ctx ends, then drains: it stops taking entries, lets
// the in-flight handlers finish (up to DrainTimeout), releases its leases and
// leaves the workers set. It returns nil after a drain, or an error when it
// could not start.
func (c *Consumer) Run(ctx context.Context) error {
	if err := c.setDefaults(); err != nil {
		return err
	}
	bg := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		c.drain(&wg)
		c.Redis.ZRem(bg, streams.WorkersKey(c.Group), c.Name)
	}()
	parts := 0
	tick := time.NewTimer(0)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := c.heartbeat(bg); err != nil {
			c.Logger.Warn("heartbeat failed", "err", err)
		}
		if parts == 0 {
			n, err := streams.Partitions(bg, c.Redis, c.Group)
			if err != nil && !errors.Is(err, streams.ErrNoPartitions) {
				c.Logger.Warn("reading the partition count failed", "err", err)
			}
			parts = n
		}
		if parts > 0 {
			c.balance(bg, parts, &wg)
		}
		tick.Reset(time.Second/2 + rand.N(time.Second))
	}
}

// drain stops every partition, bounds the in-flight handlers by
// DrainTimeout, and waits for the partitions to release their leases.
func (c *Consumer) drain(wg *sync.WaitGroup) {
	close(c.draining)
	c.mu.Lock()
	for _, p := range c.held {
		p.stopSoft()
	}
	c.mu.Unlock()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(c.DrainTimeout)
	defer t.Stop()
	select {
	case <-done:
		c.m.leases.Set(0)
		return
	case <-t.C:
	}
	c.Logger.Warn("drain timeout: cancelling in-flight handlers", "timeout", c.DrainTimeout)
	c.mu.Lock()
	for _, p := range c.held {
		p.stopHard()
	}
	c.mu.Unlock()
	<-done
	c.m.leases.Set(0)
}
