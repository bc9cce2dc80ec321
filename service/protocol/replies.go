package protocol

import (
	"slices"
	"strconv"
)

// AppendHistoryReply appends the reply to a history command. It encodes
// directly into a buffer grown once to the reply's size: a reply near
// --max-reply-bytes costs one allocation of that size, where encoding/json
// would build, validate and copy it several times over. The bytes are the
// same as AppendReply's.
func AppendHistoryReply(dst []byte, id uint64, r HistoryResult) []byte {
	dst = slices.Grow(dst, 128+len(r.Epoch)+publicationsLen(r.Publications))
	dst = appendReplyStart(dst, id, r.Offset, r.Epoch)
	dst = appendPublications(dst, r.Publications)
	if r.Truncated {
		dst = append(dst, `,"truncated":true`...)
	}
	return append(dst, "}}"...)
}

// AppendSubscribeReply appends the reply to a subscribe command, recovered
// publications included, as AppendHistoryReply does.
func AppendSubscribeReply(dst []byte, id uint64, r SubscribeResult) []byte {
	dst = slices.Grow(dst, 128+len(r.Epoch)+publicationsLen(r.Publications)+len(r.Data))
	dst = appendReplyStart(dst, id, r.Offset, r.Epoch)
	dst = append(dst, `,"recovered":`...)
	dst = strconv.AppendBool(dst, r.Recovered)
	dst = appendPublications(dst, r.Publications)
	if len(r.Data) > 0 {
		dst = append(dst, `,"data":`...)
		dst = append(dst, r.Data...)
	}
	return append(dst, "}}"...)
}

func appendReplyStart(dst []byte, id, offset uint64, epoch string) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"result":{"offset":`...)
	dst = strconv.AppendUint(dst, offset, 10)
	dst = append(dst, `,"epoch":`...)
	return AppendString(dst, epoch)
}

func appendPublications(dst []byte, ps Publications) []byte {
	dst = append(dst, `,"publications":[`...)
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendPublication(dst, p)
	}
	return append(dst, ']')
}

// publicationsLen is about the encoded length of ps: the keys, quotes and
// a 20-digit offset take under 96 bytes per publication.
func publicationsLen(ps Publications) int {
	n := 0
	for _, p := range ps {
		n += 96 + len(p.Channel) + len(p.Epoch) + len(p.Data) + len(p.User)
	}
	return n
}
