package client

import "github.com/wsgateway/wsgateway/service/protocol"

// JoinLeave is a join or leave notice: a connection (Client, of User)
// subscribed to or left Channel, a channel this client is subscribed to in
// a namespace whose join and leave notices the server sends
// (--join-leave-namespaces). Notices are ephemeral: none is recovered after
// a reconnect; read the channel's Presence for its state.
type JoinLeave struct {
	Channel string
	User    string
	Client  string
}

// joinLeave queues a join or leave push for its callback; it reports false
// for any other push kind.
func (cn *conn) joinLeave(in *protocol.Message) bool {
	var kind eventKind
	switch in.Push {
	case protocol.PushJoin:
		kind = evJoin
	case protocol.PushLeave:
		kind = evLeave
	default:
		return false
	}
	cn.batch = append(cn.batch, event{kind: kind, jl: &JoinLeave{Channel: in.Channel, User: in.User, Client: in.Client}})
	return true
}
