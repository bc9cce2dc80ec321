package streams_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/streams"
)

// A re-drive writes the original entry back: the message id kept, the
// dead letter's own fields dropped, newer fields carried over.
func TestRedriveFields(t *testing.T) {
	dead := map[string]any{
		streams.FieldData: `{"n":1}`, streams.FieldID: "orders:3:1-0", streams.FieldUser: "alice",
		"zz_newer": "z", "aa_newer": "a",
		streams.FieldOrigID: "1-0", streams.FieldPartition: "3", streams.FieldAttempts: "5",
		streams.FieldError: "boom", streams.FieldDeadMS: "1700000000000",
	}
	want := []any{streams.FieldID, "orders:3:1-0", streams.FieldUser, "alice", streams.FieldData, `{"n":1}`,
		"aa_newer", "a", "zz_newer", "z"}
	if diff := cmp.Diff(want, streams.RedriveFields(dead)); diff != "" {
		t.Errorf("RedriveFields (-want +got):\n%s", diff)
	}
	for f, want := range map[string]bool{streams.FieldOrigID: true, streams.FieldDeadMS: true,
		streams.FieldID: false, streams.FieldData: false} {
		if got := streams.IsDeadField(f); got != want {
			t.Errorf("IsDeadField(%q) = %v, want %v", f, got, want)
		}
	}
}

func TestReadDead(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t, redistest.Options{}).Client()
	key := streams.DeadKey("orders")
	var ids []string
	for _, n := range []string{"a", "b", "c"} {
		id, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []any{streams.FieldID, n}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	read := func(ids []string, limit int) []string {
		t.Helper()
		msgs, err := streams.ReadDead(ctx, rdb, key, ids, limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range msgs {
			got = append(got, m.Values[streams.FieldID].(string))
		}
		return got
	}
	if diff := cmp.Diff([]string{"a", "b"}, read(nil, 2)); diff != "" {
		t.Errorf("the oldest 2 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"c", "a"}, read([]string{ids[2], "9-9", ids[0]}, 0)); diff != "" {
		t.Errorf("by id, an unknown one skipped (-want +got):\n%s", diff)
	}
	if _, err := streams.ReadDead(ctx, rdb, key, []string{"not-an-id"}, 0); err == nil {
		t.Error("a malformed id read without error")
	}
}
