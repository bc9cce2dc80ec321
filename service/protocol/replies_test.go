package protocol

import (
	"bytes"
	"strings"
	"testing"
)

// TestDirectRepliesMatchAppendReply: the direct encoders of history and
// subscribe replies write the bytes AppendReply writes for the same result,
// into the room they grow once.
func TestDirectRepliesMatchAppendReply(t *testing.T) {
	pubs := Publications{
		{Channel: "chat:a", Offset: 4, Epoch: "e1", Data: []byte(`{"text":"<b>&</b> \u00e9"}`), User: "alice"},
		{Channel: "chat:a", Offset: 5, Epoch: "e1", Data: []byte(`"` + strings.Repeat("x", 5000) + `"`)},
	}
	for _, tc := range []struct {
		name   string
		direct []byte
		want   []byte
	}{
		{"history", AppendHistoryReply(nil, 7, HistoryResult{Offset: 9, Epoch: "e1", Publications: pubs}),
			AppendReply(nil, 7, HistoryResult{Offset: 9, Epoch: "e1", Publications: pubs})},
		{"history truncated", AppendHistoryReply(nil, 7, HistoryResult{Offset: 9, Epoch: "e1", Publications: pubs[:1], Truncated: true}),
			AppendReply(nil, 7, HistoryResult{Offset: 9, Epoch: "e1", Publications: pubs[:1], Truncated: true})},
		{"history empty", AppendHistoryReply(nil, 1, HistoryResult{Epoch: "e2", Publications: Publications{}}),
			AppendReply(nil, 1, HistoryResult{Epoch: "e2", Publications: Publications{}})},
		{"subscribe recovered", AppendSubscribeReply(nil, 3, SubscribeResult{Offset: 5, Epoch: "e1", Recovered: true, Publications: pubs}),
			AppendReply(nil, 3, SubscribeResult{Offset: 5, Epoch: "e1", Recovered: true, Publications: pubs})},
		{"subscribe not recovered", AppendSubscribeReply(nil, 3, SubscribeResult{Offset: 5, Epoch: "e1", Publications: Publications{}}),
			AppendReply(nil, 3, SubscribeResult{Offset: 5, Epoch: "e1", Publications: Publications{}})},
	} {
		if !bytes.Equal(tc.direct, tc.want) {
			t.Errorf("%s:\ndirect     %s\nAppendReply %s", tc.name, tc.direct, tc.want)
		}
	}
	r := HistoryResult{Offset: 9, Epoch: "e1", Publications: pubs, Truncated: true}
	if out, room := AppendHistoryReply(nil, 7, r), 128+len(r.Epoch)+publicationsLen(pubs); len(out) > room {
		t.Errorf("a history reply of %d bytes outgrew the %d grown for it: it was reallocated", len(out), room)
	}
}
