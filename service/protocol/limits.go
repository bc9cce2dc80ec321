package protocol

// Page sizes of history and presence replies, on the socket and on the API.
// With the byte budget (--max-reply-bytes) they bound what one command can
// make a node read and encode.
const (
	// DefaultHistoryLimit is the page size of a history without limit.
	DefaultHistoryLimit = 100
	// MaxHistoryLimit caps a history's limit; a larger one is lowered.
	MaxHistoryLimit = 1000
	// MaxPresenceLimit caps a presence list, and is its default size.
	MaxPresenceLimit = 1000
)

// HistoryLimit returns the page size for a requested limit (0: none given).
func HistoryLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultHistoryLimit
	case limit > MaxHistoryLimit:
		return MaxHistoryLimit
	}
	return limit
}

// clientInfoOverhead is a presence entry's encoded size beyond its strings.
const clientInfoOverhead = 40

// CapPresence builds a presence result that lists at most limit users (0:
// MaxPresenceLimit) and at most maxBytes of them (0: no budget), with the
// count of all of them.
func CapPresence(users []ClientInfo, limit, maxBytes int) PresenceResult {
	if limit <= 0 || limit > MaxPresenceLimit {
		limit = MaxPresenceLimit
	}
	res := PresenceResult{Users: users, Count: len(users)}
	if res.Users == nil {
		res.Users = []ClientInfo{}
	}
	used := 0
	for i, u := range users {
		used += len(u.User) + len(u.Client) + len(u.Node) + clientInfoOverhead
		if i == limit || (maxBytes > 0 && used > maxBytes) {
			res.Users, res.Truncated = users[:i], true
			break
		}
	}
	return res
}
