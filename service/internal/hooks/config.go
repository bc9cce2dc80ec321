package hooks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Timeout bounds, as the contract states them.
const (
	DefaultTimeout = time.Second
	MaxTimeout     = 30 * time.Second
)

// OnError is what an action does when its hook call fails: "reject" (the
// default: the client gets unavailable) or "allow" (go ahead as if the hook
// had answered {"result":{}}).
type OnError string

// The on_error values.
const (
	Reject OnError = "reject"
	Allow  OnError = "allow"
)

// Config is a validated --hooks-config file. Load fills in every default, so
// a Config from Load has no zero timeout, mode or on_error.
type Config struct {
	Endpoints  map[string]*Endpoint   `yaml:"endpoints"`
	Connect    *ConnectHook           `yaml:"connect"`
	Namespaces map[string]*Namespace  `yaml:"namespaces"`
	RPC        map[string]*HookConfig `yaml:"rpc"` // by namespace of the method name
}

// Endpoint is a named backend: a hook is POSTed to URL + "/" + hook.
type Endpoint struct {
	URL     string         `yaml:"url"`
	Timeout *time.Duration `yaml:"timeout"` // nil in the file: DefaultTimeout
}

// HookConfig is one hook's routing: which endpoint, its timeout (the
// endpoint's when unset) and what a failure does.
type HookConfig struct {
	Endpoint string         `yaml:"endpoint"`
	Timeout  *time.Duration `yaml:"timeout"`
	OnError  OnError        `yaml:"on_error"`
}

// ConnectHook is the connect hook: a HookConfig with a mode and the
// upgrade-request headers it forwards.
type ConnectHook struct {
	HookConfig     `yaml:",inline"`
	Mode           ConnectMode `yaml:"mode"`
	ForwardHeaders []string    `yaml:"forward_headers"` // canonical after Load
}

// Namespace holds a channel namespace's hooks; either may be nil.
type Namespace struct {
	Subscribe *HookConfig `yaml:"subscribe"`
	Publish   *HookConfig `yaml:"publish"`
}

// Load reads and validates the hooks file at path. Unknown keys, keys in
// another case and duplicate keys are errors; every error names the file
// and the field.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hooks config: %w", err)
	}
	cfg, err := parse(raw)
	if err != nil {
		return nil, fmt.Errorf("hooks config %s: %w", path, err)
	}
	return cfg, nil
}

// parse decodes and validates one YAML document.
func parse(raw []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty")
		}
		return nil, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// validate checks every field and fills in the defaults. It reports the
// first problem, in a fixed order (maps are walked by sorted key), so the
// same file always gives the same message.
func (c *Config) validate() error {
	if len(c.Endpoints) == 0 {
		return errors.New("endpoints: at least one endpoint is required")
	}
	for _, name := range sortedKeys(c.Endpoints) {
		if err := c.Endpoints[name].validate(name); err != nil {
			return err
		}
	}
	if c.Connect != nil {
		if err := c.validateConnect(); err != nil {
			return err
		}
	}
	for _, ns := range sortedKeys(c.Namespaces) {
		n := c.Namespaces[ns]
		field := "namespaces." + ns
		if !validNamespace(ns) {
			return fmt.Errorf("%s: %q is not a namespace (1-255 of [A-Za-z0-9_.-@=/], no ':')", field, ns)
		}
		if n == nil || (n.Subscribe == nil && n.Publish == nil) {
			return fmt.Errorf("%s: has neither subscribe nor publish", field)
		}
		if err := c.validateHook(field+".subscribe", n.Subscribe); err != nil {
			return err
		}
		if err := c.validateHook(field+".publish", n.Publish); err != nil {
			return err
		}
	}
	for _, ns := range sortedKeys(c.RPC) {
		field := "rpc." + ns
		if !validNamespace(ns) {
			return fmt.Errorf("%s: %q is not a namespace (1-255 of [A-Za-z0-9_.-@=/], no ':')", field, ns)
		}
		if c.RPC[ns] == nil {
			return fmt.Errorf("%s: endpoint is required", field)
		}
		if err := c.validateHook(field, c.RPC[ns]); err != nil {
			return err
		}
	}
	return nil
}

func (e *Endpoint) validate(name string) error {
	field := "endpoints." + name
	if !validName(name) {
		return fmt.Errorf("%s: %q is not an endpoint name (1-63 of [A-Za-z0-9_-])", field, name)
	}
	if e == nil || e.URL == "" {
		return fmt.Errorf("%s.url: is required", field)
	}
	u, err := url.Parse(e.URL)
	switch {
	case err != nil:
		return fmt.Errorf("%s.url: %q is not a URL", field, e.URL)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%s.url: %q: the scheme must be http or https", field, e.URL)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%s.url: %q has no host", field, e.URL)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%s.url: %q: no user info, query or fragment allowed (the hook name is appended)", field, e.URL)
	}
	e.URL = strings.TrimRight(e.URL, "/")
	if e.Timeout == nil {
		d := DefaultTimeout
		e.Timeout = &d
	}
	return checkTimeout(field+".timeout", *e.Timeout)
}

func (c *Config) validateConnect() error {
	h := c.Connect
	if err := c.validateHook("connect", &h.HookConfig); err != nil {
		return err
	}
	switch h.Mode {
	case "":
		h.Mode = ModeTokenThenHook
	case ModeTokenThenHook, ModeHook:
	default:
		return fmt.Errorf("connect.mode: %q is not token_then_hook or hook", h.Mode)
	}
	seen := map[string]bool{}
	for i, name := range h.ForwardHeaders {
		if !validHeaderName(name) {
			return fmt.Errorf("connect.forward_headers[%d]: %q is not a header name", i, name)
		}
		canon := canonicalHeader(name)
		if seen[canon] {
			return fmt.Errorf("connect.forward_headers[%d]: %q is listed twice", i, name)
		}
		seen[canon] = true
		h.ForwardHeaders[i] = canon
	}
	return nil
}

// validateHook checks one hook's routing (nil: no hook) and fills in its
// timeout and on_error.
func (c *Config) validateHook(field string, h *HookConfig) error {
	if h == nil {
		return nil
	}
	if h.Endpoint == "" {
		return fmt.Errorf("%s.endpoint: is required", field)
	}
	ep, ok := c.Endpoints[h.Endpoint]
	if !ok {
		return fmt.Errorf("%s.endpoint: %q is not a defined endpoint", field, h.Endpoint)
	}
	switch h.OnError {
	case "":
		h.OnError = Reject
	case Reject, Allow:
	default:
		return fmt.Errorf("%s.on_error: %q is not reject or allow", field, h.OnError)
	}
	if h.Timeout == nil {
		d := *ep.Timeout
		h.Timeout = &d
		return nil
	}
	return checkTimeout(field+".timeout", *h.Timeout)
}

func checkTimeout(field string, d time.Duration) error {
	if d <= 0 || d > MaxTimeout {
		return fmt.Errorf("%s: %s is out of range (more than 0, at most %s)", field, d, MaxTimeout)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
