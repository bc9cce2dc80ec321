package main

import "testing"

func TestPublishReachesSubscriber(t *testing.T) {
	g := startNode(t, "--dev")
	sub := connected(t, g, "")
	res := sub.result(sub.call(map[string]any{"op": "subscribe", "channel": "chat:lobby"}))
	if num(res["offset"]) != 0 || res["epoch"] == "" || res["recovered"] != false {
		t.Fatalf("subscribe result %v", res)
	}
	pub := connected(t, g, "")
	pos := pub.result(pub.call(map[string]any{"op": "publish", "channel": "chat:lobby", "data": map[string]any{"text": "hi"}}))
	if num(pos["offset"]) != 1 || pos["epoch"] != res["epoch"] {
		t.Fatalf("publish result %v", pos)
	}
	code, _ := apiCall(t, g, "POST", "/api/v1/publish", "", `{"channel":"chat:lobby","data":[1,
 2]}`)
	if code != 200 {
		t.Fatalf("api publish: %d", code)
	}
	for want := uint64(1); want <= 2; want++ {
		p := sub.next()
		if p["push"] != "pub" || num(p["offset"]) != want || p["channel"] != "chat:lobby" {
			t.Fatalf("push %d: %v", want, p)
		}
	}
}
