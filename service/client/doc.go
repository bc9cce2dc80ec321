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
// Send queues a message for the backend workers of a topic (the inbox, on a
// server with Redis); their replies come to OnReply, or to SendAndWait.
// OnJoin and OnLeave report who subscribes to and leaves channels whose
// namespace has join and leave notices.
//
// The wire types, the error codes and the close-code policy (which codes
// stay closed, which reconnect, which need a new token) come from the public
// package service/protocol, which the server uses too and which imports
// nothing of the server's. Only Publication and HistoryResult are the
// client's own: protocol's Publication is the brokers' record.
package client
