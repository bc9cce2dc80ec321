package protocol

// Push kinds of the join and leave notices (CONTRACT §7): a connection
// subscribed to, or left, a channel whose namespace enables them
// (--join-leave-namespaces). They are ephemeral: no offset, no history, not
// recovered after a reconnect; the channel's presence is the state to read.
const (
	PushJoin  = "join"
	PushLeave = "leave"
)

// AppendJoinLeave appends a join or leave push (kind PushJoin or PushLeave)
// for client of user on channel.
func AppendJoinLeave(dst []byte, kind, channel, user, client string) []byte {
	dst = append(dst, `{"push":`...)
	dst = AppendString(dst, kind)
	dst = append(dst, `,"channel":`...)
	dst = AppendString(dst, channel)
	dst = append(dst, `,"user":`...)
	dst = AppendString(dst, user)
	dst = append(dst, `,"client":`...)
	dst = AppendString(dst, client)
	return append(dst, '}')
}
