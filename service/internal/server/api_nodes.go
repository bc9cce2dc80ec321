package server

import (
	"net/http"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// nodesResult is the answer of GET /api/v1/nodes.
type nodesResult struct {
	Nodes []protocol.NodeInfo `json:"nodes"`
	// Degraded is set when the cluster's list could not be read (Redis is
	// down): Nodes then holds only the node that answered. This project's
	// addition to the v1 API (docs/protocol.md#backend-api).
	Degraded bool `json:"degraded"`
}

// apiNodes lists the live nodes. During a Redis outage it still answers
// 200 with the one node it knows for certain, marked degraded: an operator
// or autoscaler asking "what is running?" must not get a 503 exactly when
// it needs the answer, and this node is alive by definition.
func (s *Server) apiNodes(r *http.Request) (any, error) {
	nodes, err := s.broker.Nodes(r.Context())
	if err == nil {
		if nodes == nil {
			nodes = []protocol.NodeInfo{}
		}
		return nodesResult{Nodes: nodes}, nil
	}
	if s.cfg.LocalNode == nil {
		return nil, err
	}
	s.log.Warn("nodes: answering with the local node only", "err", err)
	return nodesResult{Nodes: []protocol.NodeInfo{s.cfg.LocalNode()}, Degraded: true}, nil
}
