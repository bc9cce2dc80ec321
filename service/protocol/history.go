package protocol

// PositionOnly asks History for the channel's position (offset and epoch)
// and no publications: what a subscribe reads before it joins the channel.
// No offset lies after the largest one, so the query selects nothing.
var PositionOnly = HistoryQuery{HasSince: true, Since: ^uint64(0)}

// IsPositionOnly reports whether q is PositionOnly, which a broker may
// answer without reading the history at all.
func (q HistoryQuery) IsPositionOnly() bool { return q.HasSince && q.Since == PositionOnly.Since }
