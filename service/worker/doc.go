// Package worker is wsgateway's Go worker library: it consumes an inbox
// topic (messages clients sent with `send`) or the lifecycle events from
// Redis Streams, laid out as package streams describes (docs/streams.md),
// and lets a handler answer the sender (Reply) or publish (Publish) through
// the gateway's API.
//
// Delivery is at least once and in order per partition key (the sender's
// user; an event's subject): a worker holds a lease per partition, handles
// one entry of a partition at a time, adopts the pending entries of a
// previous holder before new ones, retries a failed entry with a backoff
// (blocking its partition, which keeps the order) and moves it to the dead
// letters after MaxAttempts failures or a Permanent error. Partitions are
// spread over the live workers of a topic; a dead worker's leases expire
// after streams.LeaseTTL and others take them.
//
// Run returns after a graceful drain when its context ends: no new entries,
// the in-flight handlers finish (bounded by DrainTimeout), the leases are
// released so other workers take over at once.
//
// "Never concurrently" rests on two things the library cannot enforce: a
// handler must return soon after its context ends (the context ends when
// the lease is lost, which the library notices before the lease could
// expire), and Redis must keep what it acknowledged (a Sentinel failover
// that loses the last writes may drop a lease; then a message may run
// twice at once, still at least once). Handlers should be idempotent; the
// message id is a stable key, and Publish is idempotent by itself.
//
// Consumer is the engine under Run, exported for the gateway's webhook
// sender, which consumes the events with its own consumer group in batches.
package worker
