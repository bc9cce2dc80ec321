// Package events owns the gateway's lifecycle events (CONTRACT §7): the
// Emitter that sessions report connects, closes and subscriptions to, which
// applies them to the cluster-wide state in Redis from one goroutine per node
// (the scripts in broker/redis_events*.go decide the transitions and append
// the events); the sweep that reports the entries of dead nodes and due
// vacated channels; and the Webhook sender that POSTs the events stream to
// --webhook-url in signed batches. Without --events (which needs --redis-url)
// there is none of it: the gateway builds no Emitter.
package events
