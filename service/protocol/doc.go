// Package protocol owns the wsgateway v1 wire format, for the server and for
// every client: the commands a client sends, the replies and pushes the server
// sends back, the error codes, the close codes with what a client does after
// each (CloseRules), channel names, and the publication record that brokers
// carry between nodes. testdata/ holds the same protocol as data (example
// lines and the close-code policy) for the client libraries of every language.
// It decodes untrusted input and encodes output with as few allocations as the
// hot path allows; it does no I/O and imports nothing of ours.
package protocol
