package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/streams"
)

// Bounds of the webhook sender.
const (
	batchSize   = 100             // events per POST, at most
	postTimeout = 5 * time.Second // one POST; with LeaseRenew it stays under LeaseTTL
	idlePoll    = 500 * time.Millisecond
	firstRetry  = time.Second     // the backoff doubles from here
	maxRetry    = 5 * time.Minute // ... up to here
	leaseRetry  = 2 * time.Second // how often a node tries to take a free partition
	scrapeLimit = time.Second     // the backlog gauge's Redis calls
)

// WebhookOptions configure the webhook sender.
type WebhookOptions struct {
	URL  string
	Key  []byte // the decoded --webhook-secret
	Node string // the consumer id: one per gateway node
	// RetryWindow is how long a batch is retried before it is dead-lettered.
	RetryWindow time.Duration
	Log         *slog.Logger
	Metrics     *Metrics
	Client      *http.Client // nil: a client with postTimeout
}

// Webhook POSTs the events stream to a URL. It consumes the events group
// with the consumer group "webhook" as docs/streams.md describes for
// workers: a lease per partition, so that one node at a time sends a
// partition's events, in stream order (hence in order per subject); a batch
// that fails blocks its partition and is retried with exponential backoff
// for RetryWindow, then moved to the dead letters (streams.DeadHookKey).
// Entries are acknowledged but not deleted: the workers group reads the
// same stream.
type Webhook struct {
	rdb   redis.UniversalClient
	opts  WebhookOptions
	parts atomic.Int64 // set by Run; read by the backlog gauge
}

// NewWebhook returns a sender; Run starts it. It also makes the backlog
// gauge read the webhook group's lag.
func NewWebhook(rdb redis.UniversalClient, opts WebhookOptions) *Webhook {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: postTimeout}
	}
	w := &Webhook{rdb: rdb, opts: opts}
	opts.Metrics.backlog = w.backlog
	return w
}

// Run sends until ctx is done: one goroutine per partition of the events
// group.
func (w *Webhook) Run(ctx context.Context, partitions int) {
	w.parts.Store(int64(partitions))
	done := make(chan struct{}, partitions)
	for p := range partitions {
		go func() { defer func() { done <- struct{}{} }(); w.partition(ctx, p) }()
	}
	for range partitions {
		<-done
	}
}

// partition takes p's lease whenever it is free and sends while it holds it.
func (w *Webhook) partition(ctx context.Context, p int) {
	part := streams.Part{Group: streams.Events, N: p}
	for {
		ok, err := part.TakeLease(ctx, w.rdb, streams.GroupWebhook, w.opts.Node)
		if err == nil && ok {
			w.hold(ctx, part)
		}
		if !sleep(ctx, leaseRetry+time.Duration(rand.Int64N(int64(time.Second)))) {
			return
		}
	}
}

// hold sends p's events while this node holds its lease: first the pending
// ones (its own, or a dead holder's, claimed), then new ones.
func (w *Webhook) hold(ctx context.Context, part streams.Part) {
	l := &lease{rdb: w.rdb, part: part, me: w.opts.Node, renewed: time.Now()}
	defer l.release()
	pending := true
	for ctx.Err() == nil {
		if !l.renew(ctx) {
			return
		}
		batch, err := w.read(ctx, part, pending)
		if err != nil {
			w.opts.Log.Debug("webhook: read failed", "partition", part.N, "err", err)
			sleep(ctx, idlePoll)
			continue
		}
		if len(batch) == 0 {
			if pending {
				pending = false
				continue
			}
			sleep(ctx, idlePoll)
			continue
		}
		if !w.deliver(ctx, l, part, batch) {
			return
		}
	}
}

// read returns up to batchSize entries: pending ones (claimed into this
// consumer) or new ones.
func (w *Webhook) read(ctx context.Context, part streams.Part, pending bool) ([]redis.XMessage, error) {
	if pending {
		msgs, _, err := w.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: part.Stream(), Group: streams.GroupWebhook,
			MinIdle: 0, Start: "0-0", Count: batchSize, Consumer: w.opts.Node}).Result()
		return msgs, err
	}
	res, err := w.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: streams.GroupWebhook, Consumer: w.opts.Node,
		Streams: []string{part.Stream(), ">"}, Count: batchSize, Block: -1}).Result()
	if err == redis.Nil {
		return nil, nil
	}
	if err != nil || len(res) == 0 {
		return nil, err
	}
	return res[0].Messages, nil
}

// deliver POSTs batch until it succeeds or its retry window ends (then it
// is dead-lettered), and acknowledges it. It reports false when the lease
// was lost or ctx ended: the batch stays pending for the next holder.
func (w *Webhook) deliver(ctx context.Context, l *lease, part streams.Part, batch []redis.XMessage) bool {
	id := streams.FormatID(streams.Events, part.N, batch[0].ID)
	body := encodeBatch(part.N, batch)
	first := time.Now()
	backoff := firstRetry
	var lastErr error
	for attempt := 1; ; attempt++ {
		if lastErr = w.post(ctx, id, body); lastErr == nil {
			w.opts.Metrics.deliveries.WithLabelValues(DeliveryOK).Inc()
			return w.ack(ctx, part, batch, nil, attempt)
		}
		if ctx.Err() != nil {
			return false
		}
		w.opts.Metrics.deliveries.WithLabelValues(DeliveryFailed).Inc()
		if time.Since(first)+backoff > w.opts.RetryWindow {
			if !w.ack(ctx, part, batch, lastErr, attempt) {
				return false
			}
			w.opts.Metrics.deliveries.WithLabelValues(DeliveryDead).Inc()
			w.opts.Log.Error("webhook: batch dead-lettered after its retry window", "partition", part.N,
				"events", len(batch), "attempts", attempt, "err", lastErr)
			return true
		}
		w.opts.Log.Warn("webhook: POST failed; retrying", "partition", part.N, "attempt", attempt,
			"retry_in", backoff.String(), "err", lastErr)
		// Wait out the backoff, renewing the lease meanwhile.
		for end := time.Now().Add(backoff); time.Now().Before(end); {
			if !sleep(ctx, min(time.Until(end), streams.LeaseRenew)) || !l.renew(ctx) {
				return false
			}
		}
		backoff = min(2*backoff, maxRetry)
	}
}

// post sends one signed batch; only a 2xx answer counts.
func (w *Webhook) post(ctx context.Context, id string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.opts.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(w.opts.Key, id, ts, body))
	resp, err := w.opts.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// ack acknowledges batch; with deadErr it first copies every entry to the
// dead letters with why. The dead letters live in another Cluster slot than
// the partition, so the two steps are not one transaction: a node lost
// between them leaves the batch pending, and the next holder dead-letters
// it again (a duplicate in the dead letters, never a loss). Not deleting
// the entries keeps them for the workers group; the stream's MAXLEN bounds
// it.
func (w *Webhook) ack(ctx context.Context, part streams.Part, batch []redis.XMessage, deadErr error, attempts int) bool {
	if deadErr != nil {
		_, err := w.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
			for _, m := range batch {
				vals := map[string]any{streams.FieldOrigID: m.ID, streams.FieldPartition: part.N,
					streams.FieldAttempts: attempts, streams.FieldError: deadErr.Error(), streams.FieldDeadMS: time.Now().UnixMilli()}
				for k, v := range m.Values {
					vals[k] = v
				}
				pl.XAdd(ctx, &redis.XAddArgs{Stream: streams.DeadHookKey, Values: vals})
			}
			return nil
		})
		if err != nil {
			w.opts.Log.Warn("webhook: dead-lettering failed; the batch will be sent again", "partition", part.N, "err", err)
			return false
		}
	}
	ids := make([]string, len(batch))
	for i, m := range batch {
		ids[i] = m.ID
	}
	if err := w.rdb.XAck(ctx, part.Stream(), streams.GroupWebhook, ids...).Err(); err != nil {
		w.opts.Log.Warn("webhook: ack failed; the batch will be sent again", "partition", part.N, "err", err)
		return false
	}
	return true
}

// backlog is the events not yet delivered: the webhook group's lag plus its
// pending entries, summed over partitions.
func (w *Webhook) backlog() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeLimit)
	defer cancel()
	cmds := make([]*redis.XInfoGroupsCmd, w.parts.Load())
	_, _ = w.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for p := range cmds {
			cmds[p] = pl.XInfoGroups(ctx, streams.Part{Group: streams.Events, N: p}.Stream())
		}
		return nil
	})
	var n int64
	for _, c := range cmds {
		groups, _ := c.Result()
		for _, g := range groups {
			if g.Name == streams.GroupWebhook {
				n += max(g.Lag, 0) + g.Pending
			}
		}
	}
	return float64(n)
}

// encodeBatch is the POST body: a JSON array of the events, each with its
// public id; numeric fields are numbers.
func encodeBatch(p int, batch []redis.XMessage) []byte {
	out := make([]map[string]any, len(batch))
	for i, m := range batch {
		ev := map[string]any{"id": streams.FormatID(streams.Events, p, m.ID)}
		for k, v := range m.Values {
			s, _ := v.(string)
			ev[k] = s
			if k == streams.FieldTimeMS || k == streams.FieldSeq || k == streams.FieldCode {
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					ev[k] = n
				}
			}
		}
		out[i] = ev
	}
	b, _ := json.Marshal(out) // strings and numbers: cannot fail
	return b
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
