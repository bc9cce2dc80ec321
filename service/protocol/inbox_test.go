package protocol

import "testing"

func TestValidTopic(t *testing.T) {
	for name, want := range map[string]bool{
		"orders": true, "a.b-c_d": true, "X9": true, string(make([]byte, 64)): false,
		"": false, "_private": false, "events": false, "bad/topic": false, "{tag}": false,
		"with space": false, "a:b": false, "ok_64_" + string(repeat('x', 58)): true, "too_long_" + string(repeat('x', 56)): false,
	} {
		if got := ValidTopic(name); got != want {
			t.Errorf("ValidTopic(%q) = %v, want %v", name, got, want)
		}
	}
}

func repeat(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestAppendReplyPushWithoutData(t *testing.T) {
	if got, want := string(AppendReplyPush(nil, "t/0/1-0", nil, nil)), `{"push":"reply","id":"t/0/1-0","data":null}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
