// Package client is the public Go client of wsgateway (protocol wsgateway.v1).
//
// A Client owns one WebSocket connection at a time. It reconnects by itself
// with exponential backoff and full jitter, and on every reconnect it sends
// connect (with a fresh token) and resubscribes every channel it remembers,
// asking the server to recover the publications missed while it was away.
// It tracks the last offset and epoch seen per channel, drops duplicates,
// and reports everything through callbacks that run on one goroutine, in the
// order the server sent them.
//
// After a reconnect the first 100 channels are resubscribed in one frame and
// the rest at 80 a second, under the server's default command rate.
//
// The package depends on nothing inside the server: it keeps its own small
// copy of the wire types, so it can be vendored or copied on its own.
package client
