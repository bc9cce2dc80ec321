package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// stampOverhead is the size of the publication data without padding:
// {"t":<19 digits>,"pad":""}.
const stampOverhead = len(`{"t":`) + 19 + len(`,"pad":""}`)

// publisher posts publications to /api/v1/publish at a steady rate from a
// few keep-alive HTTP workers. The pacer never catches up in bursts: a
// publication due while every worker is busy is dropped and counted, so the
// achieved rate shows when the gateway (or this machine) cannot keep up.
type publisher struct {
	client  *http.Client
	url     string
	auth    string // Authorization header, "" for none
	channel []byte // JSON-quoted
	pad     string
	rate    float64
	workers int
	win     *window
}

func newPublisher(cfg config, win *window) *publisher {
	// A publish to a channel with thousands of local subscribers takes tens
	// of milliseconds in the gateway (the hand-off to every send queue), so
	// a few calls in flight are needed even at low rates.
	workers := min(int(cfg.rate/5)+4, 64)
	ch, _ := json.Marshal(cfg.channel) // a string always marshals
	p := &publisher{
		client: &http.Client{
			Timeout: 10 * time.Second,
			Transport: &http.Transport{
				MaxIdleConnsPerHost: workers,
				MaxConnsPerHost:     workers,
				IdleConnTimeout:     time.Minute,
			},
		},
		url:     strings.TrimSuffix(cfg.api, "/") + "/api/v1/publish",
		channel: ch,
		pad:     strings.Repeat("x", max(cfg.payload-stampOverhead, 0)),
		rate:    cfg.rate,
		workers: workers,
		win:     win,
	}
	if cfg.apiKey != "" {
		p.auth = "apikey " + cfg.apiKey
	}
	return p
}

// pubWorker is one HTTP worker's state, owned by its goroutine.
type pubWorker struct {
	ok, failed, inWindow uint64
	maxOffset            uint64
	errFirst             string
	api                  histogram // publish call round trip, µs
	body                 []byte
	resp                 bytes.Buffer
}

// pubResult is the publisher's account of a run.
type pubResult struct {
	ok, failed, dropped, inWindow uint64
	maxOffset                     uint64 // the channel's offset after the last publication
	errFirst                      string
	api                           merged
}

// run publishes from now until stop (or ctx's end), then waits for the
// calls in flight, each bounded by the HTTP client's timeout.
func (p *publisher) run(ctx context.Context, stop time.Time) pubResult {
	jobs := make(chan struct{}, p.workers)
	ws := make([]*pubWorker, p.workers)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &pubWorker{}
		wg.Go(func() { p.work(ctx, ws[i], jobs) })
	}
	var res pubResult
	res.dropped = p.pace(ctx, stop, jobs)
	close(jobs)
	wg.Wait()
	for _, w := range ws {
		res.ok += w.ok
		res.failed += w.failed
		res.inWindow += w.inWindow
		res.maxOffset = max(res.maxOffset, w.maxOffset)
		if res.errFirst == "" {
			res.errFirst = w.errFirst
		}
		res.api.add(&w.api)
	}
	return res
}

// pace hands out publications at p.rate until stop; it returns how many it
// had to drop because every worker was busy.
func (p *publisher) pace(ctx context.Context, stop time.Time, jobs chan<- struct{}) (dropped uint64) {
	tick := time.NewTicker(min(max(time.Duration(float64(time.Second)/p.rate), time.Millisecond), 10*time.Millisecond))
	defer tick.Stop()
	start := time.Now()
	var due uint64
	for {
		select {
		case <-ctx.Done():
			return dropped
		case now := <-tick.C:
			if !now.Before(stop) {
				return dropped
			}
			for target := uint64(now.Sub(start).Seconds() * p.rate); due < target; due++ {
				select {
				case jobs <- struct{}{}:
				default:
					dropped++
				}
			}
		}
	}
}

func (p *publisher) work(ctx context.Context, w *pubWorker, jobs <-chan struct{}) {
	for range jobs {
		sent := time.Now()
		offset, err := p.publish(ctx, w, sent.UnixNano())
		if err != nil {
			w.failed++
			if w.errFirst == "" {
				w.errFirst = err.Error()
			}
			continue
		}
		w.api.record(uint64(time.Since(sent).Microseconds()))
		w.ok++
		w.maxOffset = max(w.maxOffset, offset)
		if p.win.contains(sent.UnixNano()) {
			w.inWindow++
		}
	}
}

// offsetKey precedes the offset in the API's publish result.
var offsetKey = []byte(`"offset":`)

// publish makes one API call stamped with sent and returns the offset.
func (p *publisher) publish(ctx context.Context, w *pubWorker, sent int64) (uint64, error) {
	b := append(w.body[:0], `{"channel":`...)
	b = append(b, p.channel...)
	b = append(b, `,"data":{"t":`...)
	b = strconv.AppendInt(b, sent, 10)
	b = append(b, `,"pad":"`...)
	b = append(b, p.pad...)
	w.body = append(b, `"}}`...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(w.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if p.auth != "" {
		req.Header.Set("Authorization", p.auth)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	w.resp.Reset()
	_, err = w.resp.ReadFrom(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case err != nil:
		return 0, fmt.Errorf("read publish reply: %w", err)
	case resp.StatusCode != http.StatusOK:
		return 0, fmt.Errorf("publish: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(w.resp.Bytes()))
	}
	_, rest, found := bytes.Cut(w.resp.Bytes(), offsetKey)
	offset, _, ok := cutUint(rest)
	if !found || !ok {
		return 0, fmt.Errorf("publish: no offset in %q", w.resp.Bytes())
	}
	return offset, nil
}
