package main

import (
	"encoding/json"
	"testing"

	"github.com/wsgateway/wsgateway/service/protocol"
)

func TestPublishReachesSubscriber(t *testing.T) {
	g := startNode(t, "--dev")
	sub := connected(t, g, "")
	res := resultOf[protocol.SubscribeResult](t, sub.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:lobby"}))
	if res.Offset != 0 || res.Epoch == "" || res.Recovered || len(res.Publications) != 0 {
		t.Fatalf("subscribe result %+v", res)
	}
	pub := connected(t, g, "")
	pos := resultOf[protocol.Position](t, pub.call(protocol.Command{Op: protocol.OpPublish, Channel: "chat:lobby", Data: json.RawMessage(`{"text":"hi"}`)}))
	if pos != (protocol.Position{Offset: 1, Epoch: res.Epoch}) {
		t.Fatalf("publish result %+v, want offset 1 in epoch %q", pos, res.Epoch)
	}
	code, _ := apiCall(t, g, "POST", "/api/v1/publish", "", `{"channel":"chat:lobby","data":[1,
 2]}`)
	if code != 200 {
		t.Fatalf("api publish: %d", code)
	}
	for want := uint64(1); want <= 2; want++ {
		p := sub.next()
		if p.Push != protocol.PushPub || p.Offset != want || p.Channel != "chat:lobby" {
			t.Fatalf("push %d: %s", want, show(p))
		}
	}
}
