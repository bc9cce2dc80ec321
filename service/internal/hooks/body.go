package hooks

import (
	"encoding/json"
	"fmt"
)

// The request bodies of CONTRACT §6. Every body starts with the common
// fields; what the hook lacks is null, never left out, so a backend can
// read every body with one schema per hook.
type commonBody struct {
	Hook   string          `json:"hook"`
	Client string          `json:"client"`
	Node   *string         `json:"node"`
	Zone   *string         `json:"zone"`
	User   *string         `json:"user"`
	Meta   json.RawMessage `json:"meta"`
}

type connectBody struct {
	commonBody
	Headers map[string]string `json:"headers"`
	Claims  json.RawMessage   `json:"claims"`
}

type channelBody struct { // subscribe
	commonBody
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

type publishBody struct {
	commonBody
	Channel        string          `json:"channel"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey *string         `json:"idempotency_key"`
}

type rpcBody struct {
	commonBody
	Method string          `json:"method"`
	Data   json.RawMessage `json:"data"`
}

// body is the JSON body of r's hook for req.
func (r *Route) body(req Request) ([]byte, error) {
	c := commonBody{Hook: r.hook, Client: req.Client, Node: orNull(r.c.node), Zone: orNull(r.c.zone),
		User: orNull(req.User), Meta: req.Meta}
	var v any
	switch r.hook {
	case HookConnect:
		h := req.Headers
		if h == nil {
			h = map[string]string{}
		}
		v = connectBody{c, h, req.Claims}
	case HookSubscribe:
		v = channelBody{c, req.Channel, req.Data}
	case HookPublish:
		v = publishBody{c, req.Channel, req.Data, orNull(req.IdempotencyKey)}
	default:
		v = rpcBody{c, req.Method, req.Data}
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Meta, data and claims come from the gateway's own checked
		// input: invalid JSON here is a bug, not the backend's fault.
		return nil, fmt.Errorf("%s hook body: %w", r.hook, err)
	}
	return b, nil
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
