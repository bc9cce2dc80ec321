// Package server owns the node's HTTP surface: the client port (the
// WebSocket upgrade and everything checked before it), the backend API, and
// the operator port (health, readiness, metrics). It also runs the node's
// lifecycle: listen, serve, and drain on shutdown. routes.go lists every route.
package server
