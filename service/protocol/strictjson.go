package protocol

import (
	"errors"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// strict is how everything a client or a backend sends is read: commands on
// the socket and API request bodies. encoding/json (v1) matched field names
// case-insensitively, let the last of duplicate names win, and (through
// Decoder) ignored what followed the first value: a message could mean one
// thing to the gateway and another to a proxy, a hook or a logger in
// front of it. Here:
//   - field names match exactly; a name in another case ("ID", "Channel")
//     is an unknown field, ignored like any other, so a command missing a
//     required field because of it fails on that;
//   - a duplicate name in any object, data included, is an error;
//   - anything but whitespace after the value is an error;
//   - strings must be valid UTF-8.
//
// These are go-json-experiment/json's defaults (the encoding/json/v2
// candidate); they are spelled out so that a change of default upstream
// cannot loosen them.
var strict = json.JoinOptions(
	json.MatchCaseInsensitiveNames(false),
	json.RejectUnknownMembers(false), // clients and backends may be newer than the gateway
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// UnmarshalStrict decodes the single JSON value in data into v under the
// strict rules above. Its errors become bad_request replies through
// BadJSON.
func UnmarshalStrict(data []byte, v any) error {
	return json.Unmarshal(data, v, strict)
}

// BadJSON turns an UnmarshalStrict error into a bad_request *Error that
// says what was wrong, without echoing the input.
func BadJSON(err error) *Error {
	var se *json.SemanticError
	if errors.As(err, &se) && se.JSONPointer != "" {
		return Errorf(CodeBadRequest, "field %q has the wrong type", fieldOf(se.JSONPointer))
	}
	var sy *jsontext.SyntacticError
	if errors.As(err, &sy) && errors.Is(sy.Err, jsontext.ErrDuplicateName) {
		return Errorf(CodeBadRequest, "duplicate field %q", fieldOf(sy.JSONPointer))
	}
	return Errorf(CodeBadRequest, "invalid JSON")
}

// fieldOf turns a JSON pointer such as "/channel" or "/data/a" into a
// short field path for a message: "channel", "data.a".
func fieldOf(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return truncate(strings.Join(parts, "."), 64)
}

// CompactData removes insignificant whitespace from the JSON value data, in
// place, without changing strings or numbers. Data is compacted once, where
// it enters (a client's publish, an API publish or broadcast), so the live
// push and every later history read carry the very same bytes. It fails
// only on invalid JSON.
func CompactData(data []byte) ([]byte, error) {
	v := jsontext.Value(data)
	if err := v.Compact(); err != nil {
		return nil, err
	}
	return v, nil
}

// lenient reads only the id of a command that failed to decode.
var lenient = json.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// idOf recovers the id of a command that failed to decode, so that its
// error reply can carry it: a lenient second read of the id alone (the
// last of duplicates, every other field ignored). 0 when even that fails:
// not JSON, trailing data, an id of the wrong type.
func idOf(line []byte) uint64 {
	var c struct {
		ID uint64 `json:"id"`
	}
	if json.Unmarshal(line, &c, lenient) != nil {
		return 0
	}
	return c.ID
}
