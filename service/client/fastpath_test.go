package client

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// pubView is a decoded publication in comparable form.
type pubView struct {
	Channel string
	Offset  uint64
	Epoch   string
	Data    string
	User    string
}

func TestDecodePub(t *testing.T) {
	const head = `{"push":"pub","channel":"chat:lobby","offset":46,"epoch":"E","data":`
	deep := strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)
	tests := []struct {
		name string
		line string
		want *pubView // nil: the fast path must decline
	}{
		{"server shape with publisher", head + `{"a":[1,2.5e3,"x"]},"user":"alice"}`,
			&pubView{"chat:lobby", 46, "E", `{"a":[1,2.5e3,"x"]}`, "alice"}},
		{"API publish has no user", head + `[true,false,null]}`,
			&pubView{"chat:lobby", 46, "E", `[true,false,null]`, ""}},
		{"string data holding the user key", head + `"a,\"user\":\"b"}`,
			&pubView{"chat:lobby", 46, "E", `"a,\"user\":\"b"`, ""}},
		{"object data with a user field, no publisher", head + `{"x":1,"user":"eve"}}`,
			&pubView{"chat:lobby", 46, "E", `{"x":1,"user":"eve"}`, ""}},
		{"object data with a user field and a publisher", head + `{"user":"eve"},"user":"bob"}`,
			&pubView{"chat:lobby", 46, "E", `{"user":"eve"}`, "bob"}},
		{"null data", head + `null}`, &pubView{"chat:lobby", 46, "E", `null`, ""}},
		{"number data", head + `-0.5e-3,"user":"u"}`, &pubView{"chat:lobby", 46, "E", `-0.5e-3`, "u"}},
		{"escapes inside data", head + `"\u00e9\n\\\/"}`, &pubView{"chat:lobby", 46, "E", `"\u00e9\n\\\/"`, ""}},
		{"spaces inside data kept", head + `{ "a" : [ 1 , {} ] }}`, &pubView{"chat:lobby", 46, "E", `{ "a" : [ 1 , {} ] }`, ""}},
		{"empty containers", head + `[{},[]]}`, &pubView{"chat:lobby", 46, "E", `[{},[]]`, ""}},
		{"offset zero", `{"push":"pub","channel":"c","offset":0,"epoch":"","data":1}`, &pubView{"c", 0, "", "1", ""}},
		{"largest offset", `{"push":"pub","channel":"c","offset":18446744073709551615,"epoch":"e","data":1}`,
			&pubView{"c", 18446744073709551615, "e", "1", ""}},
		{"non-ASCII user", head + `1,"user":"żółw"}`, &pubView{"chat:lobby", 46, "E", "1", "żółw"}},

		{"escape in user", head + `1,"user":"a\"b"}`, nil},
		{"escape in channel", `{"push":"pub","channel":"a\/b","offset":1,"epoch":"e","data":1}`, nil},
		{"invalid UTF-8 in user", head + "1,\"user\":\"a\xffb\"}", nil},
		{"user null", head + `1,"user":null}`, nil},
		{"unknown field after data", head + `1,"foo":"bar"}`, nil},
		{"keys in another order", `{"push":"pub","offset":1,"channel":"c","epoch":"e","data":1}`, nil},
		{"leading zero offset", `{"push":"pub","channel":"c","offset":01,"epoch":"e","data":1}`, nil},
		{"offset overflow", `{"push":"pub","channel":"c","offset":18446744073709551616,"epoch":"e","data":1}`, nil},
		{"fractional offset", `{"push":"pub","channel":"c","offset":1.0,"epoch":"e","data":1}`, nil},
		{"space before data", head + ` 1}`, nil},
		{"space before closing brace", head + `1 }`, nil},
		{"trailing garbage", head + `1}x`, nil},
		{"invalid data", head + `{"a":}}`, nil},
		{"two values as data", head + `1 2}`, nil},
		{"leading zero in data", head + `[01]}`, nil},
		{"bad escape in data", head + `"\x"}`, nil},
		{"short unicode escape", head + `"\u12"}`, nil},
		{"control byte in data string", head + "\"a\tb\"}", nil},
		{"unterminated data", head + `{"a":1`, nil},
		{"data nested deeper than maxDepth", head + deep + `}`, nil},
		{"unsub push", `{"push":"unsub","channel":"c","reason":"r"}`, nil},
		{"reply", `{"id":1,"result":{}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := decodePub([]byte(tt.line))
			var got *pubView
			if ok {
				got = view(p)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decodePub(%s) (-want +got):\n%s", tt.line, diff)
			}
			checkAgrees(t, []byte(tt.line))
		})
	}
}

func view(p rawPub) *pubView {
	return &pubView{string(p.channel), p.offset, string(p.epoch), string(p.data), string(p.user)}
}

// checkAgrees fails t when the fast path accepts line and encoding/json
// decodes it differently, or refuses it. It reports whether it accepted.
func checkAgrees(t *testing.T, line []byte) bool {
	t.Helper()
	p, ok := decodePub(line)
	var in protocol.Message
	err := json.Unmarshal(line, &in)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("fast path accepted %q; encoding/json refuses it: %v", line, err)
	}
	if in.Push != protocol.PushPub || in.ID != 0 || in.Result != nil || in.Error != nil || in.Reason != "" {
		t.Fatalf("fast path accepted %q; encoding/json sees no plain publication: %+v", line, in)
	}
	want := &pubView{in.Channel, in.Offset, in.Epoch, string(in.Data), in.User}
	if diff := cmp.Diff(want, view(p)); diff != "" {
		t.Fatalf("fast path and encoding/json disagree on %q (-json +fast):\n%s", line, diff)
	}
	return true
}

// FuzzDecodePush builds lines in the server's shape from the generated
// parts (strings written without escaping, data as given, valid or not) and
// checks that the fast path agrees with encoding/json whenever it accepts.
// It also checks that the fast path does accept what the server sends, and
// throws the raw data at it as a whole line.
func FuzzDecodePush(f *testing.F) {
	f.Add("chat:lobby", uint64(46), "E", `{"text":"hi","n":[1,2.5]}`, "alice")
	f.Add("c", uint64(0), "", `"a,\"user\":\"b"`, "")
	f.Add("c", uint64(1), "e", `{"user":"x"}`, "")
	f.Add("c", uint64(1), "e", `1,"user":"x"`, "y")
	f.Add("c", uint64(1), "e", `{ "a" : null }`, "u")
	f.Add("a\"b", uint64(7), "e\\", `[`, "\xff")
	f.Add("c", uint64(1), "e", `{"push":"pub","channel":"c","offset":1,"epoch":"e","data":1}`, "")
	f.Fuzz(func(t *testing.T, channel string, offset uint64, epoch, data, user string) {
		line := serverLine(channel, offset, epoch, data, user)
		accepted := checkAgrees(t, line)
		if !accepted && plain(channel) && plain(epoch) && plain(user) && serverData(data) {
			t.Fatalf("fast path declined the server's shape: %q", line)
		}
		checkAgrees(t, []byte(data))
	})
}

// serverLine writes a publication push the way the server does, except
// that nothing is escaped.
func serverLine(channel string, offset uint64, epoch, data, user string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"push":"pub","channel":"` + channel + `","offset":`)
	b.WriteString(strconv.FormatUint(offset, 10))
	b.WriteString(`,"epoch":"` + epoch + `","data":` + data)
	if user != "" {
		b.WriteString(`,"user":"` + user + `"`)
	}
	b.WriteString("}")
	return b.Bytes()
}

// plain reports whether s needs no escaping in JSON and is valid UTF-8.
func plain(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == '"' || r == '\\' })
}

// serverData reports whether data is what the server sends: valid, compact
// JSON nested no deeper than the fast path follows.
func serverData(data string) bool {
	var compact bytes.Buffer
	if !json.Valid([]byte(data)) || json.Compact(&compact, []byte(data)) != nil || compact.String() != data {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(data))
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > maxDepth {
				return false
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

var benchLine = []byte(`{"push":"pub","channel":"chat:lobby","offset":1234567,"epoch":"k3Jx9","data":{"text":"hello, world","from":"load-17","seq":98765,"ts":1717171717171},"user":"load-17"}`)

// BenchmarkDecodePush compares the fast path (alone, and with the reader's
// string interning) with encoding/json on a typical publication.
func BenchmarkDecodePush(b *testing.B) {
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchLine)))
		for b.Loop() {
			if _, ok := decodePub(benchLine); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("fast+publication", func(b *testing.B) {
		cn := &conn{intern: make(interner)}
		b.ReportAllocs()
		b.SetBytes(int64(len(benchLine)))
		for b.Loop() {
			p, _ := decodePub(benchLine)
			_ = cn.publication(p)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchLine)))
		for b.Loop() {
			var in protocol.Message
			if err := json.Unmarshal(benchLine, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDecodePubTakesEveryPublicationVector: the server's publication pushes
// in the shared wire vectors all take the fast path, which agrees with
// encoding/json on them; every other push is left to encoding/json.
func TestDecodePubTakesEveryPublicationVector(t *testing.T) {
	b, err := os.ReadFile("../protocol/testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Pushes []struct{ Name, Line string } }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	for _, p := range v.Pushes {
		isPub := strings.HasPrefix(p.Line, pubPrefix)
		if accepted := checkAgrees(t, []byte(p.Line)); accepted != isPub {
			t.Errorf("%s: fast path accepted=%t, want %t", p.Name, accepted, isPub)
		}
	}
}
