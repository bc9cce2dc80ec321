// Package protocol owns the wsgateway v1 wire format: the commands a client
// sends, the replies and pushes the server sends back, the error and close
// codes, channel names, and the publication record that brokers carry between
// nodes. It decodes untrusted input and encodes output with as few allocations
// as the hot path allows; it does no I/O and imports nothing of ours.
package protocol
