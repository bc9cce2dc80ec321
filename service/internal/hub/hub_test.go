package hub

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// recorder is a fake Subscriber that keeps every Delivery it is given.
type recorder struct {
	name string
	mu   sync.Mutex
	got  []*Delivery
}

func (r *recorder) Deliver(d *Delivery) {
	r.mu.Lock()
	r.got = append(r.got, d)
	r.mu.Unlock()
}

func (r *recorder) deliveries() []*Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Delivery(nil), r.got...)
}

func TestSubscribeUnsubscribe(t *testing.T) {
	type step struct {
		unsub   bool // Unsubscribe instead of Subscribe
		channel string
		sub     string
	}
	sub := func(ch, s string) step { return step{false, ch, s} }
	unsub := func(ch, s string) step { return step{true, ch, s} }
	tests := []struct {
		name  string
		steps []step
	}{
		{"first subscriber only", []step{sub("a", "x"), sub("a", "y"), sub("a", "z")}},
		{"double subscribe is a no-op", []step{sub("a", "x"), sub("a", "x"), unsub("a", "x")}},
		{"channels are independent", []step{sub("a", "x"), sub("b", "x"), sub("b", "y")}},
		{"last only when the last leaves", []step{sub("a", "x"), sub("a", "y"),
			unsub("a", "x"), unsub("a", "y")}},
		{"leaving in subscribe order", []step{sub("a", "x"), sub("a", "y"), sub("a", "z"),
			unsub("a", "x"), unsub("a", "y"), unsub("a", "z")}},
		{"leaving from the middle", []step{sub("a", "x"), sub("a", "y"), sub("a", "z"),
			unsub("a", "y"), unsub("a", "z"), unsub("a", "x")}},
		{"unsubscribe from an unknown channel", []step{unsub("a", "x")}},
		{"unsubscribe a stranger", []step{sub("a", "x"), unsub("a", "y"), unsub("a", "x")}},
		{"unsubscribe twice", []step{sub("a", "x"), sub("a", "y"), unsub("a", "x"),
			unsub("a", "x"), unsub("a", "y"), unsub("a", "y")}},
		{"first again after the last left", []step{sub("a", "x"), unsub("a", "x"), sub("a", "x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			h := New(reg, nil)
			subs := map[string]*recorder{}
			model := map[string]map[string]bool{} // channel -> subscriber names
			total := 0
			for i, st := range tt.steps {
				r := subs[st.sub]
				if r == nil {
					r = &recorder{name: st.sub}
					subs[st.sub] = r
				}
				if model[st.channel] == nil {
					model[st.channel] = map[string]bool{}
				}
				if st.unsub {
					h.Unsubscribe(st.channel, r)
					if model[st.channel][st.sub] {
						total--
					}
					delete(model[st.channel], st.sub)
				} else {
					h.Subscribe(st.channel, r)
					if !model[st.channel][st.sub] {
						total++
					}
					model[st.channel][st.sub] = true
				}
				if n, want := heldChannels(h), nonEmpty(model); n != want {
					t.Errorf("step %d %+v: hub holds %d channels, want %d (an empty channel is forgotten)", i, st, n, want)
				}
				if n := h.Subscribers(st.channel); n != len(model[st.channel]) {
					t.Errorf("step %d: Subscribers(%q) = %d, want %d", i, st.channel, n, len(model[st.channel]))
				}
				if n := h.Subscriptions(); n != total {
					t.Errorf("step %d: Subscriptions() = %d, want %d", i, n, total)
				}
				if g := gathered(t, reg)["wsgateway_subscriptions"].Gauge; g != float64(total) {
					t.Errorf("step %d: wsgateway_subscriptions = %v, want %d", i, g, total)
				}
			}
		})
	}
}

// heldChannels counts the channels the hub keeps an entry for. Its caller
// runs on one goroutine, so it reads the shards without their locks.
func heldChannels(h *Hub) int {
	n := 0
	for i := range h.shards {
		n += len(h.shards[i].channels)
	}
	return n
}

// nonEmpty counts the channels of model that have a subscriber.
func nonEmpty(model map[string]map[string]bool) int {
	n := 0
	for _, subs := range model {
		if len(subs) > 0 {
			n++
		}
	}
	return n
}

func TestHandlePublication(t *testing.T) {
	tests := []struct {
		name    string
		subs    map[string][]string // channel -> subscribers, in order
		unsubs  map[string][]string // then removed
		publish string
		want    []string // who receives it, exactly once
	}{
		{"every subscriber of the channel", map[string][]string{"a": {"x", "y", "z"}}, nil, "a", []string{"x", "y", "z"}},
		{"no one else", map[string][]string{"a": {"x"}, "b": {"y"}}, nil, "a", []string{"x"}},
		{"a subscriber of two channels gets it once", map[string][]string{"a": {"x", "y"}, "b": {"x", "z"}}, nil, "b", []string{"x", "z"}},
		{"channel nobody listens to", map[string][]string{"a": {"x"}}, nil, "c", nil},
		{"not after unsubscribing", map[string][]string{"a": {"x", "y", "z"}}, map[string][]string{"a": {"x"}}, "a", []string{"y", "z"}},
		{"not after everyone left", map[string][]string{"a": {"x", "y"}}, map[string][]string{"a": {"y", "x"}}, "a", nil},
		{"similar channel names are distinct", map[string][]string{"a": {"x"}, "a:": {"y"}, "A": {"z"}}, nil, "a", []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(prometheus.NewRegistry(), nil)
			all := map[string]*recorder{}
			get := func(name string) *recorder {
				if all[name] == nil {
					all[name] = &recorder{name: name}
				}
				return all[name]
			}
			for ch, names := range tt.subs {
				for _, n := range names {
					h.Subscribe(ch, get(n))
				}
			}
			for ch, names := range tt.unsubs {
				for _, n := range names {
					h.Unsubscribe(ch, get(n))
				}
			}
			p := &protocol.Publication{Channel: tt.publish, Offset: 7, Epoch: "E", Data: []byte(`{"k":"v"}`), User: "alice"}
			h.HandlePublication(p)

			want := map[string]int{}
			for _, n := range tt.want {
				want[n] = 1
			}
			got := map[string]int{}
			var first *Delivery
			for name, r := range all {
				for _, d := range r.deliveries() {
					got[name]++
					if first == nil {
						first = d
					}
					if d != first {
						t.Errorf("%s got Delivery %p, another subscriber %p: the push must be encoded once", name, d, first)
					}
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("deliveries per subscriber (-want +got):\n%s", diff)
			}
			if first != nil {
				if first.Pub != p {
					t.Errorf("Delivery.Pub = %p, want the publication %p", first.Pub, p)
				}
				if w := protocol.AppendPush(nil, p); string(first.Line) != string(w) {
					t.Errorf("Delivery.Line = %s, want %s", first.Line, w)
				}
			}
		})
	}
}

// A publication nobody on this node listens to costs a map lookup: nothing
// is encoded or allocated.
func TestHandlePublicationWithoutSubscribers(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *Hub)
	}{
		{"never subscribed", func(h *Hub) {}},
		{"other channels have subscribers", func(h *Hub) { h.Subscribe("chat:other", &recorder{}) }},
		{"every subscriber left", func(h *Hub) {
			r := &recorder{}
			h.Subscribe("chat:lobby", r)
			h.Unsubscribe("chat:lobby", r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(prometheus.NewRegistry(), nil)
			tt.setup(h)
			p := &protocol.Publication{Channel: "chat:lobby", Offset: 1, Epoch: "E", Data: []byte(`1`),
				Time: time.Now().UnixNano()}
			if n := testing.AllocsPerRun(100, func() { h.HandlePublication(p) }); n != 0 {
				t.Errorf("HandlePublication without subscribers allocates %v times, want 0", n)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := New(reg, nil)
	now := time.Unix(1000, 0)
	h.now = func() time.Time { return now }
	r := &recorder{}
	h.Subscribe("a", r)
	h.Subscribe("b", r)
	h.Subscribe("b", &recorder{})
	h.Unsubscribe("a", r)

	h.HandlePublication(&protocol.Publication{Channel: "b", Offset: 1, Data: []byte(`1`), Time: now.Add(-3 * time.Millisecond).UnixNano()})
	h.HandlePublication(&protocol.Publication{Channel: "b", Offset: 2, Data: []byte(`1`)})          // no time: not observed
	h.HandlePublication(&protocol.Publication{Channel: "z", Offset: 1, Data: []byte(`1`), Time: 1}) // no subscriber: no hand-off

	got := gathered(t, reg)
	want := map[string]sample{
		"wsgateway_subscriptions":           {Gauge: 2},
		"wsgateway_publish_latency_seconds": {Count: 1, Sum: float64(3*time.Millisecond) / 1e9, Buckets: float64(len(LatencyBuckets))},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

// sample is one unlabelled series as gathered: a gauge's value or a
// histogram's count, sum and number of buckets.
type sample struct {
	Gauge        float64
	Count        uint64
	Sum, Buckets float64
}

// gathered returns every unlabelled series registered on reg, by name.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]sample {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]sample{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			s := sample{Gauge: m.GetGauge().GetValue()}
			if hist := m.GetHistogram(); hist != nil {
				s.Count, s.Sum, s.Buckets = hist.GetSampleCount(), hist.GetSampleSum(), float64(len(hist.GetBucket()))
			}
			got[mf.GetName()] = s
		}
	}
	return got
}

// TestConcurrentUse runs subscribes, unsubscribes, publications and user
// registrations at once; run it with -race. Publications on one channel come
// from one goroutine in offset order, as brokers promise, so every subscriber
// must see increasing offsets, and steady subscribers must see all of them.
func TestConcurrentUse(t *testing.T) {
	const (
		channels = 8
		pubs     = 300
		steady   = 3 // subscribers on each channel for the whole run
		churners = 4 // subscribers per channel that come and go
	)
	reg := prometheus.NewRegistry()
	h := New(reg, nil)
	names := make([]string, channels)
	steadies := make([][]*recorder, channels)
	for c := range names {
		names[c] = fmt.Sprintf("chat:%d", c)
		for i := range steady {
			r := &recorder{name: fmt.Sprintf("steady-%d-%d", c, i)}
			steadies[c] = append(steadies[c], r)
			h.Subscribe(names[c], r)
		}
	}
	type churner struct {
		r       *recorder
		channel string
	}
	var churn []churner
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := range names {
		for i := range churners {
			r := &recorder{name: fmt.Sprintf("churn-%d-%d", c, i)}
			churn = append(churn, churner{r, names[c]})
			wg.Go(func() {
				for {
					select {
					case <-stop:
						h.Unsubscribe(names[c], r)
						return
					default:
					}
					h.Subscribe(names[c], r)
					h.Subscribe(names[c], r)
					h.Unsubscribe(names[c], r)
				}
			})
		}
	}
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c := &conn{name: fmt.Sprint(i)}
			h.AddConn("u", c)
			_ = h.userConns("u")
			_ = h.Subscriptions()
			h.RemoveConn("u", c)
		}
	})
	var pubWG sync.WaitGroup
	for c := range names {
		pubWG.Go(func() {
			for off := uint64(1); off <= pubs; off++ {
				h.HandlePublication(&protocol.Publication{Channel: names[c], Offset: off, Epoch: "E", Data: []byte(`1`)})
			}
		})
	}
	pubWG.Wait()
	close(stop)
	wg.Wait()

	for c := range names {
		for _, r := range steadies[c] {
			got := r.deliveries()
			if len(got) != pubs {
				t.Errorf("%s got %d publications, want %d", r.name, len(got), pubs)
			}
			checkIncreasing(t, r, names[c])
		}
	}
	for _, c := range churn {
		checkIncreasing(t, c.r, c.channel)
	}
	if n := len(h.userConns("u")); n != 0 {
		t.Errorf("%d connections registered after the run, want 0", n)
	}
	if subs := h.Subscriptions(); subs != channels*steady {
		t.Errorf("Subscriptions() = %d after the run, want %d", subs, channels*steady)
	}
	if g := gathered(t, reg)["wsgateway_subscriptions"].Gauge; g != channels*steady {
		t.Errorf("wsgateway_subscriptions = %v, want %d", g, channels*steady)
	}
}

// checkIncreasing fails unless r got only channel's publications, in
// strictly increasing offset order.
func checkIncreasing(t *testing.T, r *recorder, channel string) {
	t.Helper()
	var last uint64
	for _, d := range r.deliveries() {
		if d.Pub.Channel != channel || d.Pub.Offset <= last {
			t.Errorf("%s got %s@%d after %s@%d", r.name, d.Pub.Channel, d.Pub.Offset, channel, last)
			return
		}
		last = d.Pub.Offset
	}
}
