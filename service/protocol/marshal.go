package protocol

import (
	"bytes"
	"encoding/json"
)

// MarshalResult encodes a reply's result (or an API answer) as one line of
// JSON. Unlike json.Marshal it leaves '<', '>', '&', U+2028 and U+2029
// alone: json.Marshal would rewrite them as \u escapes inside every
// publication's data, so history and recovery would carry other bytes than
// the live push of the same publication.
func MarshalResult(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}
