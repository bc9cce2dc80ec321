package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bounds on the waits of a cluster.
const (
	// clusterCreateTimeout bounds `redis-cli --cluster create`, which
	// itself waits for the nodes to meet.
	clusterCreateTimeout = 30 * time.Second
	// clusterReadyTimeout bounds the wait for cluster_state:ok everywhere.
	clusterReadyTimeout = 15 * time.Second
)

// clusterSlots is the number of hash slots a healthy cluster covers.
const clusterSlots = 16384

// Cluster is three redis-server masters in cluster mode, no replicas, the
// hash slots split evenly among them.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts three cluster-enabled servers, joins them with
// `redis-cli --cluster create`, and returns once every node reports
// cluster_state:ok with all slots covered. It fails the test if
// redis-server or redis-cli is missing.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	skipShort(t)
	bin := lookPath(t, "redis-server", redisServerHint)
	cli := lookPath(t, "redis-cli", redisCLIHint)
	c := &Cluster{}
	for range 3 {
		c.Nodes = append(c.Nodes, newServer(t, spec{bin: bin, busPort: true, args: clusterNodeArgs}))
	}
	c.create(t, cli)
	clients := make([]*redis.Client, len(c.Nodes))
	for i, n := range c.Nodes {
		clients[i] = n.Client()
	}
	ready := func() error { return c.ready(t.Context(), clients) }
	if err := poll(clusterReadyTimeout, nil, ready); err != nil {
		t.Fatalf("cluster not ready: %v\n%s", err, c.tails())
	}
	return c
}

// URL returns "redis-cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3".
func (c *Cluster) URL() string {
	return "redis-cluster://" + strings.Join(c.Addrs(), ",")
}

// Addrs returns the nodes' addresses, for redis.ClusterOptions.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	return addrs
}

// clusterNodeArgs are a node's arguments. The bus port is chosen like the
// port, rather than being port+10000, which may be taken or out of range.
func clusterNodeArgs(s *Server) []string {
	return append(serverArgs(s, false),
		"--cluster-enabled", "yes",
		"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", s.Port),
		"--cluster-node-timeout", "2000",
		"--cluster-port", strconv.Itoa(s.busPort),
	)
}

// create joins the nodes into one cluster and assigns the slots.
func (c *Cluster) create(t testing.TB, cli string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), clusterCreateTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	cmd := exec.CommandContext(ctx, cli, args...)
	cmd.WaitDelay = time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("redis-cli %s: %v\n--- output ---\n%s\n%s",
			strings.Join(args, " "), err, out, c.tails())
	}
}

// ready checks that every node sees a healthy cluster of all the nodes.
func (c *Cluster) ready(ctx context.Context, clients []*redis.Client) error {
	want := map[string]string{
		"cluster_state":       "ok",
		"cluster_slots_ok":    strconv.Itoa(clusterSlots),
		"cluster_known_nodes": strconv.Itoa(len(c.Nodes)),
	}
	for i, cl := range clients {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		info, err := cl.ClusterInfo(ctx).Result()
		cancel()
		if err != nil {
			return fmt.Errorf("node %s: CLUSTER INFO: %w", c.Nodes[i].Addr, err)
		}
		for key, v := range want {
			if got := infoField(info, key); got != v {
				return fmt.Errorf("node %s: %s is %q, want %q", c.Nodes[i].Addr, key, got, v)
			}
		}
	}
	return nil
}

// tails returns the output tails of every node.
func (c *Cluster) tails() string {
	var b strings.Builder
	for _, n := range c.Nodes {
		b.WriteString(n.tail())
	}
	return b.String()
}
