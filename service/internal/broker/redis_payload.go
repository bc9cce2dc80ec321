package broker

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// A publication travels through Redis (pub/sub and the history stream) as
// one string: "offset\nepoch\ntime\ntraceparent\nuser\ndata". The publish
// script prepends offset and epoch; user is a JSON string, so none of the
// header fields can hold a newline, and data (compact JSON) is the rest.
const payloadFields = 6

// encodeBody returns the part of the payload the publisher supplies.
func encodeBody(data []byte, o protocol.PublishOptions) []byte {
	b := make([]byte, 0, 48+len(o.TraceParent)+len(o.User)+len(data))
	b = strconv.AppendInt(b, o.Time, 10)
	b = append(b, '\n')
	b = append(b, o.TraceParent...)
	b = append(b, '\n')
	b = protocol.AppendString(b, o.User)
	b = append(b, '\n')
	return append(b, data...)
}

var errPayload = errors.New("malformed publication payload")

// decodePayload parses a payload from pub/sub or the stream.
func decodePayload(channel, s string) (*protocol.Publication, error) {
	var f [payloadFields - 1]string
	rest := s
	for i := range f {
		j := strings.IndexByte(rest, '\n')
		if j < 0 {
			return nil, errPayload
		}
		f[i], rest = rest[:j], rest[j+1:]
	}
	off, err1 := strconv.ParseUint(f[0], 10, 64)
	t, err2 := strconv.ParseInt(f[2], 10, 64)
	var user string
	err3 := json.Unmarshal([]byte(f[4]), &user)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, errPayload
	}
	return &protocol.Publication{
		Channel: channel, Offset: off, Epoch: f[1], Time: t, TraceParent: f[3], User: user, Data: []byte(rest),
	}, nil
}
