package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// API calls the gateway's backend API (CONTRACT §3) for Reply and Publish.
// It is safe for concurrent use.
type API struct {
	URL        string // e.g. "http://wsgateway-api:8081"
	Key        string // sent as "Authorization: apikey <Key>"
	HTTPClient *http.Client
}

// Reply sends data to the sender of message id (POST /api/v1/reply).
func (a *API) Reply(ctx context.Context, id string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("reply %s: %w", id, err)
	}
	return a.reply(ctx, id, map[string]any{"id": id, "data": json.RawMessage(raw)})
}

// ReplyError sends an error to the sender of message id.
func (a *API) ReplyError(ctx context.Context, id, code, message string) error {
	return a.reply(ctx, id, map[string]any{"id": id, "error": protocol.Error{Code: code, Message: message}})
}

func (a *API) reply(ctx context.Context, id string, body any) error {
	err := a.call(ctx, "/api/v1/reply", body, nil)
	if errors.Is(err, protocol.ErrNotFound) {
		return fmt.Errorf("reply %s: %w", id, ErrSenderGone)
	}
	if err != nil {
		return fmt.Errorf("reply %s: %w", id, err)
	}
	return nil
}

// Publish publishes data to channel with an idempotency key (empty: none).
func (a *API) Publish(ctx context.Context, channel string, data any, key string) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("publish %s: %w", channel, err)
	}
	body := map[string]any{"channel": channel, "data": json.RawMessage(raw)}
	if key != "" {
		body["idempotency_key"] = key
	}
	if err := a.call(ctx, "/api/v1/publish", body, nil); err != nil {
		return fmt.Errorf("publish %s: %w", channel, err)
	}
	return nil
}

// call POSTs body as JSON and decodes the answer into out (if not nil). An
// API error comes back as a *protocol.Error, so errors.Is matches its code.
func (a *API) call(ctx context.Context, path string, body, out any) error {
	if a == nil || a.URL == "" {
		return errors.New("no API URL configured")
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(a.URL, "/")+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "apikey "+a.Key)
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	hc := a.HTTPClient
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	ans, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error *protocol.Error `json:"error"`
		}
		if json.Unmarshal(ans, &e) == nil && e.Error != nil {
			return e.Error
		}
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, ans)
	}
	if out != nil {
		return json.Unmarshal(ans, out)
	}
	return nil
}

var defaultHTTP = &http.Client{Timeout: 10 * time.Second}
