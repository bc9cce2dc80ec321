package worker

import "github.com/redis/go-redis/v9"

// Every script that changes a partition first checks that this consumer
// still holds its lease, so a worker that lost the lease (and whose
// successor may already run the entry) can neither ack nor count attempts.
// All keys of a script are of one partition (one hash tag): legal on Cluster.
// Taking, renewing and releasing the lease itself is streams.Part's.

// ackScript acknowledges handled entries, deletes them unless other
// consumer groups read the same stream (events: workers and webhook; the
// gateway caps those streams itself), and forgets their attempts.
// KEYS: lease, stream, attempts. ARGV: consumer, group, "1" to XDEL, ids...
// Returns 1, or 0 when the lease is not the caller's.
var ackScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 4, #ARGV do
  redis.call('XACK', KEYS[2], ARGV[2], ARGV[i])
  if ARGV[3] == '1' then redis.call('XDEL', KEYS[2], ARGV[i]) end
  redis.call('HDEL', KEYS[3], ARGV[i])
end
return 1`)

// failScript counts a failed run of an entry. KEYS: lease, attempts.
// ARGV: consumer, id. Returns the attempts so far, or -1 when the lease is
// not the caller's.
var failScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
return redis.call('HINCRBY', KEYS[2], ARGV[2], 1)`)
