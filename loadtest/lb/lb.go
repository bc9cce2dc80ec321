// Package lb runs Debian's HAProxy with loadtest/haproxy.cfg in front of
// three gateway nodes: the load balancer of the capacity runs. The capacity
// gate's test (loadtest/gate_test.go) and the capacity run (loadtest/run:
// make loadtest, make capacity-smoke) both start it through this package,
// so they put the same balancer, with the same environment, in front of
// their nodes.
//
// The process runs in the foreground (-db), so its PID is ours to stop and
// nothing else is ever signalled.
package lb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Backend is one gateway node's addresses (host:port each).
type Backend struct {
	WS, API, Admin string
}

// Options says where HAProxy listens and what it balances over.
type Options struct {
	Bin     string // the haproxy binary; empty: Path()
	Config  string // loadtest/haproxy.cfg
	WS, API string // where clients and backends connect (host:port)
	MaxConn int    // connections per frontend
	Nodes   [3]Backend
	// APIKey authenticates the readiness probe, GET /api/v1/nodes through
	// the balancer.
	APIKey string
	// WantNodes is how many nodes that probe must list before Start
	// returns; 0 accepts any 200.
	WantNodes int
	Logs      io.Writer // HAProxy's output; nil discards it
}

// readyTimeout bounds the wait for HAProxy to route the probe.
const readyTimeout = 10 * time.Second

// Path finds Debian's haproxy on PATH (scripts/deps.sh installs it).
func Path() (string, error) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		return "", fmt.Errorf("haproxy not found: run `make deps` (scripts/deps.sh installs Debian's haproxy): %w", err)
	}
	return bin, nil
}

// Env is the environment haproxy.cfg reads (see its header).
func Env(ws, api string, maxConn int, nodes [3]Backend) []string {
	env := []string{"LB_WS=" + ws, "LB_API=" + api, fmt.Sprintf("LB_MAXCONN=%d", maxConn)}
	for i, n := range nodes {
		_, adminPort, _ := net.SplitHostPort(n.Admin)
		env = append(env, fmt.Sprintf("NODE%d_WS=%s", i+1, n.WS), fmt.Sprintf("NODE%d_API=%s", i+1, n.API),
			fmt.Sprintf("NODE%d_ADMIN=%s", i+1, adminPort))
	}
	return env
}

// Check runs haproxy -c on config with env: a config that would not start
// (an address left unset, say) fails here with HAProxy's own message.
func Check(bin, config string, env []string) error {
	cmd := exec.Command(bin, "-c", "-f", config)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("haproxy -c -f %s: %w\n%s", config, err, out)
	}
	return nil
}

// Proxy is a running HAProxy.
type Proxy struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Start checks the config, starts HAProxy and returns once it routes the
// readiness probe to o.WantNodes nodes; on any error nothing is left running.
func Start(o Options) (*Proxy, error) {
	if o.Bin == "" {
		bin, err := Path()
		if err != nil {
			return nil, err
		}
		o.Bin = bin
	}
	if o.Logs == nil {
		o.Logs = io.Discard
	}
	env := append([]string{"PATH=" + os.Getenv("PATH")}, Env(o.WS, o.API, o.MaxConn, o.Nodes)...)
	if err := Check(o.Bin, o.Config, env); err != nil {
		return nil, err
	}
	cmd := exec.Command(o.Bin, "-db", "-f", o.Config)
	cmd.Env = env
	cmd.Stdout = o.Logs
	cmd.Stderr = o.Logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	p := &Proxy{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitRouting(o); err != nil {
		_ = p.Close()
		return nil, err
	}
	return p, nil
}

// PID is the HAProxy process's id.
func (p *Proxy) PID() int { return p.cmd.Process.Pid }

// Close stops HAProxy: SIGINT, then SIGKILL after 5 s.
func (p *Proxy) Close() error {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("haproxy ignored SIGINT for 5 s; killed")
	}
}

// waitRouting polls the probe every 100 ms until it passes, HAProxy exits
// or readyTimeout passes.
func (p *Proxy) waitRouting(o Options) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		err := probe(o)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return errors.New("haproxy exited (see its log)")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("haproxy did not route /api/v1/nodes within %v: %w", readyTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// probe asks the nodes' API, through the balancer, for the live nodes.
func probe(o Options) error {
	req, err := http.NewRequest(http.MethodGet, "http://"+o.API+"/api/v1/nodes", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "apikey "+o.APIKey)
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /api/v1/nodes: %s", resp.Status)
	}
	var body struct {
		Nodes []json.RawMessage `json:"nodes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("GET /api/v1/nodes: %w", err)
	}
	if len(body.Nodes) < o.WantNodes {
		return fmt.Errorf("GET /api/v1/nodes lists %d nodes, want %d", len(body.Nodes), o.WantNodes)
	}
	return nil
}

// Version is HAProxy's version, the third word of `haproxy -v`.
func Version() string {
	bin, err := Path()
	if err != nil {
		return "unknown"
	}
	out, _ := exec.Command(bin, "-v").Output()
	if f := strings.Fields(string(out)); len(f) >= 3 {
		return f[2]
	}
	return "unknown"
}
