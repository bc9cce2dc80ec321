package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// retryTimeout bounds the retry loops of clients riding out a failover.
const retryTimeout = 20 * time.Second

func TestStartServesCommands(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{})
	if want := fmt.Sprintf("redis://127.0.0.1:%d", s.Port); s.URL() != want {
		t.Errorf("URL() = %q, want %q", s.URL(), want)
	}
	c := s.Client()
	ctx := t.Context()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want %q", got, err, "v")
	}
}

func TestRestartKeepsDataOnlyWithAppendOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     Options
		halt     func(*Server)
		wantKept bool
	}{
		{"append only survives a kill", Options{AppendOnly: true}, (*Server).Kill, true},
		{"append only survives a stop", Options{AppendOnly: true}, (*Server).Stop, true},
		{"without append only a kill loses the key", Options{}, (*Server).Kill, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Start(t, tt.opts)
			c := s.Client()
			if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
			port := s.Port
			tt.halt(s)
			if err := ping(s.Addr); err == nil {
				t.Fatalf("%s still answers PING after halting", s.Addr)
			}
			s.Restart(t)
			if s.Port != port {
				t.Errorf("restarted on port %d, want %d", s.Port, port)
			}
			got, err := c.Get(t.Context(), "k").Result()
			switch {
			case tt.wantKept && (err != nil || got != "v"):
				t.Errorf("GET after restart = %q, %v; want %q", got, err, "v")
			case !tt.wantKept && !errors.Is(err, redis.Nil):
				t.Errorf("GET after restart = %q, %v; want redis.Nil", got, err)
			}
		})
	}
}

func TestRestartRefusesARunningServer(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{})
	rec := &fatalRecorder{TB: t}
	runRecorded(func() { s.Restart(rec) })
	if !strings.Contains(rec.fatal, "still running") {
		t.Errorf("Restart of a running server: fatal %q, want one saying it is still running", rec.fatal)
	}
}

func TestFailMasterPromotesTheReplica(t *testing.T) {
	t.Parallel()
	s := StartSentinel(t)
	wantURL := fmt.Sprintf("redis-sentinel://%s/%s", strings.Join(s.Addrs(), ","), s.MasterName)
	if s.URL() != wantURL || len(s.Sentinels) != 3 {
		t.Errorf("URL() = %q with %d sentinels, want %q", s.URL(), len(s.Sentinels), wantURL)
	}
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: s.Addrs()})
	t.Cleanup(func() { _ = c.Close() })
	ctx := t.Context()
	if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatalf("SET before failover: %v", err)
	}
	oldMaster, replica := s.Master, s.Replica
	s.FailMaster(t)
	if s.Master != replica || s.Replica != oldMaster {
		t.Errorf("after FailMaster, Master is %s and Replica %s; want %s and %s",
			s.Master.Addr, s.Replica.Addr, replica.Addr, oldMaster.Addr)
	}
	err := poll(retryTimeout, nil, func() error { return c.Set(ctx, "after", "2", 0).Err() })
	if err != nil {
		t.Fatalf("SET through the failover client after failover: %v", err)
	}
	if got, err := s.Master.Client().Get(ctx, "after").Result(); err != nil || got != "2" {
		t.Errorf("GET on the new master = %q, %v; want %q", got, err, "2")
	}
}

func TestClusterServesAllSlots(t *testing.T) {
	t.Parallel()
	cl := StartCluster(t)
	if want := "redis-cluster://" + strings.Join(cl.Addrs(), ","); cl.URL() != want {
		t.Errorf("URL() = %q, want %q", cl.URL(), want)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	t.Cleanup(func() { _ = c.Close() })

	t.Run("keys in different slots", func(t *testing.T) {
		ctx := t.Context()
		for i := range 30 {
			key := fmt.Sprintf("key-%d", i)
			if err := c.Set(ctx, key, i, 0).Err(); err != nil {
				t.Fatalf("SET %s: %v", key, err)
			}
		}
		for _, n := range cl.Nodes {
			if size, err := n.Client().DBSize(ctx).Result(); err != nil || size == 0 {
				t.Errorf("node %s holds %d keys (%v); want the keys spread over every node", n.Addr, size, err)
			}
		}
	})
	t.Run("sharded pub/sub", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		sub := c.SSubscribe(ctx, "news")
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatalf("SSUBSCRIBE confirmation: %v", err)
		}
		if n, err := c.SPublish(ctx, "news", "hello").Result(); err != nil || n != 1 {
			t.Fatalf("SPUBLISH = %d, %v; want 1 receiver", n, err)
		}
		msg, err := sub.ReceiveMessage(ctx)
		if err != nil || msg.Channel != "news" || msg.Payload != "hello" {
			t.Fatalf("received %+v, %v; want hello on news", msg, err)
		}
	})
}

func TestStartFailureShowsTheServerOutput(t *testing.T) {
	skipShort(t) // runs redis-server
	t.Parallel()
	rec := &fatalRecorder{TB: t}
	runRecorded(func() { Start(rec, Options{Args: []string{"--no-such-directive", "x"}}) })
	for _, want := range []string{"did not answer PING", "process exited", "Bad directive"} {
		if !strings.Contains(rec.fatal, want) {
			t.Errorf("fatal %q does not contain %q", rec.fatal, want)
		}
	}
}

func TestStartRecognisesATakenPort(t *testing.T) {
	skipShort(t) // runs redis-server
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // hang up at once, as no Redis would, so PING fails fast
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	s := &Server{Addr: l.Addr().String(), Port: port, Dir: t.TempDir(), t: t, spec: spec{
		bin:  lookPath(t, "redis-server", redisServerHint),
		args: func(s *Server) []string { return serverArgs(s, false) },
	}}
	t.Cleanup(s.cleanup)
	if err := s.launch(false); !errors.Is(err, errAddrInUse) {
		t.Errorf("launch on a taken port: %v; want errAddrInUse, which Start retries on a new port", err)
	}
}
