// Package streams names the keys, partitions and entry fields of wsgateway's
// Redis streams ("wsg streams v1", documented for workers in any language in
// docs/streams.md): the inbox topics that clients `send` to, and the
// lifecycle events group.
//
// It owns no goroutines and no state: the gateway (enqueue, replies, events),
// the worker library (service/worker) and the webhook sender all build their
// keys here, so the layout exists in one place. Every key of one partition
// shares the hash tag {s:<S>:<p>}, so one Lua script may touch them all on
// Redis Cluster.
//
// The layout only grows: a name here never changes meaning, since data
// written by one version is read by the next.
package streams
