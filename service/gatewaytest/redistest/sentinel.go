package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bounds on the waits of a Sentinel deployment.
const (
	// sentinelReadyTimeout bounds the wait for the sentinels to find the
	// replica and each other; their hello messages go out every 2s.
	sentinelReadyTimeout = 20 * time.Second
	// failoverTimeout bounds FailMaster. A failover here takes a few
	// seconds: down-after-milliseconds 1000, then a vote, then promotion.
	failoverTimeout = 30 * time.Second
	// callTimeout bounds one command sent while polling.
	callTimeout = time.Second
)

// masterName is the name the sentinels monitor the master under.
const masterName = "mymaster"

// sentinelConf is the config each sentinel starts from; the port comes from
// the command line, so a port retry needs no new file. Quorum 2 of 3.
const sentinelConf = `bind 127.0.0.1
protected-mode no
dir %[1]s
sentinel resolve-hostnames no
sentinel monitor %[2]s 127.0.0.1 %[3]d 2
sentinel down-after-milliseconds %[2]s 1000
sentinel failover-timeout %[2]s 5000
sentinel parallel-syncs %[2]s 1
`

// Sentinel is a master, one replica of it, and three sentinels monitoring
// the master as MasterName with quorum 2. After FailMaster, Master is the
// promoted server and Replica is the old master, dead.
type Sentinel struct {
	Master, Replica *Server
	// Sentinels are redis-sentinel processes; their Client answers
	// SENTINEL commands.
	Sentinels []*Server
	// MasterName is the name the sentinels know the master by.
	MasterName string

	clients []*redis.SentinelClient // one per sentinel, same order
}

// StartSentinel starts the master, the replica and three sentinels, and
// returns once every sentinel knows the replica and the two other
// sentinels, so a failover can be voted on. It fails the test if
// redis-server or redis-sentinel is missing.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	skipShort(t)
	bin := lookPath(t, "redis-sentinel", redisSentinelHint)
	lookPath(t, "redis-server", redisServerHint)
	master := Start(t, Options{})
	replica := Start(t, Options{Args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(master.Port)}})
	s := &Sentinel{Master: master, Replica: replica, MasterName: masterName}
	for range 3 {
		sen := newServer(t, spec{bin: bin, args: s.sentinelArgs})
		s.Sentinels = append(s.Sentinels, sen)
		c := redis.NewSentinelClient(&redis.Options{Addr: sen.Addr})
		t.Cleanup(func() { _ = c.Close() })
		s.clients = append(s.clients, c)
	}
	rc := replica.Client()
	ready := func() error { return s.ready(t.Context(), rc) }
	if err := poll(sentinelReadyTimeout, nil, ready); err != nil {
		t.Fatalf("sentinels not ready: %v\n%s", err, s.tails())
	}
	return s
}

// URL returns "redis-sentinel://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3/NAME".
func (s *Sentinel) URL() string {
	return "redis-sentinel://" + strings.Join(s.Addrs(), ",") + "/" + s.MasterName
}

// Addrs returns the sentinels' addresses, for redis.FailoverOptions.
func (s *Sentinel) Addrs() []string {
	addrs := make([]string, len(s.Sentinels))
	for i, sen := range s.Sentinels {
		addrs[i] = sen.Addr
	}
	return addrs
}

// FailMaster kills the master and returns once every sentinel reports the
// replica as the master and the replica itself has taken the role. Then it
// swaps Master and Replica.
func (s *Sentinel) FailMaster(t testing.TB) {
	t.Helper()
	s.Master.Kill()
	promoted := s.Replica.Client()
	err := poll(failoverTimeout, nil, func() error {
		if err := s.reportMaster(t.Context(), s.Replica.Addr); err != nil {
			return err
		}
		return hasInfo(t.Context(), promoted, "replication", "role", "master")
	})
	if err != nil {
		t.Fatalf("failover to %s: %v\n%s", s.Replica.Addr, err, s.tails())
	}
	s.Master, s.Replica = s.Replica, s.Master
}

// Failover asks a sentinel for a planned failover (SENTINEL FAILOVER) and
// returns once every sentinel reports the replica as the master, the
// replica has taken the role, and the old master follows it with its link
// up, so whatever the old master accepted after the promotion is gone.
// Until the sentinels reconfigure it (about a second), the old master keeps
// accepting writes: clients that have not heard of the switch go on writing
// there. Then it swaps Master and Replica.
func (s *Sentinel) Failover(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	err := s.clients[0].Failover(ctx, s.MasterName).Err()
	cancel()
	if err != nil {
		t.Fatalf("SENTINEL FAILOVER %s: %v", s.MasterName, err)
	}
	promoted, demoted := s.Replica.Client(), s.Master.Client()
	err = poll(failoverTimeout, nil, func() error {
		if err := s.reportMaster(t.Context(), s.Replica.Addr); err != nil {
			return err
		}
		if err := hasInfo(t.Context(), promoted, "replication", "role", "master"); err != nil {
			return err
		}
		if err := hasInfo(t.Context(), demoted, "replication", "master_port", strconv.Itoa(s.Replica.Port)); err != nil {
			return err
		}
		return hasInfo(t.Context(), demoted, "replication", "master_link_status", "up")
	})
	if err != nil {
		t.Fatalf("planned failover to %s: %v\n%s", s.Replica.Addr, err, s.tails())
	}
	s.Master, s.Replica = s.Replica, s.Master
}

// sentinelArgs writes the sentinel's config on its first launch and keeps
// it afterwards, as the sentinel rewrites it with what it learns.
func (s *Sentinel) sentinelArgs(sen *Server) []string {
	conf := filepath.Join(sen.Dir, "sentinel.conf")
	if _, err := os.Stat(conf); err != nil {
		text := fmt.Sprintf(sentinelConf, sen.Dir, s.MasterName, s.Master.Port)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			sen.t.Fatalf("write %s: %v", conf, err)
		}
	}
	return []string{conf, "--port", strconv.Itoa(sen.Port)}
}

// ready checks that the replica is in sync and that every sentinel sees the
// master up, the replica, and the two other sentinels.
func (s *Sentinel) ready(ctx context.Context, replica *redis.Client) error {
	if err := hasInfo(ctx, replica, "replication", "master_link_status", "up"); err != nil {
		return fmt.Errorf("replica %s: %w", s.Replica.Addr, err)
	}
	for i, c := range s.clients {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		m, err := c.Master(ctx, s.MasterName).Result()
		cancel()
		if err != nil {
			return fmt.Errorf("sentinel %s: SENTINEL MASTER: %w", s.Sentinels[i].Addr, err)
		}
		got := fmt.Sprintf("flags=%s replicas=%s sentinels=%s", m["flags"], m["num-slaves"], m["num-other-sentinels"])
		if want := "flags=master replicas=1 sentinels=2"; got != want {
			return fmt.Errorf("sentinel %s: %s, want %s", s.Sentinels[i].Addr, got, want)
		}
	}
	return nil
}

// reportMaster checks that every sentinel reports addr as the master.
func (s *Sentinel) reportMaster(ctx context.Context, addr string) error {
	for i, c := range s.clients {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		hostPort, err := c.GetMasterAddrByName(ctx, s.MasterName).Result()
		cancel()
		if err != nil {
			return fmt.Errorf("sentinel %s: get-master-addr-by-name: %w", s.Sentinels[i].Addr, err)
		}
		if len(hostPort) != 2 || net.JoinHostPort(hostPort[0], hostPort[1]) != addr {
			return fmt.Errorf("sentinel %s reports master %v, want %s", s.Sentinels[i].Addr, hostPort, addr)
		}
	}
	return nil
}

// tails returns the output tails of every process in the deployment.
func (s *Sentinel) tails() string {
	var b strings.Builder
	for _, srv := range append([]*Server{s.Master, s.Replica}, s.Sentinels...) {
		b.WriteString(srv.tail())
	}
	return b.String()
}
