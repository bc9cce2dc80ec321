package hub

import "github.com/wsgateway/wsgateway/service/protocol"

// AddConn registers an authenticated connection of user.
func (h *Hub) AddConn(user string, c Conn) {
	h.usersMu.Lock()
	defer h.usersMu.Unlock()
	set := h.users[user]
	if set == nil {
		set = make(map[Conn]struct{}, 1)
		h.users[user] = set
	}
	set[c] = struct{}{}
}

// RemoveConn forgets a connection registered with AddConn.
func (h *Hub) RemoveConn(user string, c Conn) {
	h.usersMu.Lock()
	defer h.usersMu.Unlock()
	set := h.users[user]
	if _, ok := set[c]; !ok {
		return
	}
	delete(set, c)
	if len(set) == 0 {
		delete(h.users, user)
	}
}

// HandleDisconnect closes every local connection of user with 4003. Brokers
// call it when a backend asks to disconnect a user anywhere in the cluster.
func (h *Hub) HandleDisconnect(user string) {
	for _, c := range h.userConns(user) {
		c.Close(protocol.CloseDisconnected)
	}
}

func (h *Hub) userConns(user string) []Conn {
	h.usersMu.Lock()
	defer h.usersMu.Unlock()
	out := make([]Conn, 0, len(h.users[user]))
	for c := range h.users[user] {
		out = append(out, c)
	}
	return out
}
