package broker

import "github.com/redis/go-redis/v9"

// A channel's epoch is tied to the data lineage of the Redis master that
// holds it: the meta hash records the master's replication ID (field r,
// INFO replication's master_replid) when the epoch starts. A master that
// is not the one that wrote the channel's last publications may lack some
// of them (a promoted replica that had not received the tail; a restart
// from an AOF written with appendfsync everysec, or from an RDB snapshot,
// which may lack the last second), yet it would hand out their offsets
// again. Redis gives a master a new replication ID whenever its history may
// have diverged: at every start (with or without persistence) and at a
// promotion. So the scripts start a new epoch when the stored ID is not the
// current one, and the clients that saw the lost offsets are told
// (recovered:false, or unsub) instead of being handed other publications
// under the same (epoch, offset).
//
// Durable mode (RedisOptions.MinReplicas > 0) keeps the epoch across a
// promotion. A publication becomes visible only once MinReplicas replicas
// hold it: the script does not publish it, and reads stop at the channel's
// committed offset (field c); after WAIT confirms the replicas, the commit
// script advances c and publishes. So everything anyone saw is on the
// replicas, and a promoted replica that continues the writing master's
// history (its master_replid2 is the stored ID) has all of it: it commits
// what it holds and carries on in the same epoch. Everything else (a
// restart, a promotion further down a chain, a channel that was written
// without durability) starts a new epoch as above.
//
// Redis Cluster is exempt (lineage off): a slot that migrates to another
// master keeps its history intact under a foreign replication ID, which the
// rule cannot tell from a lost one. There the epoch changes only when the
// channel's meta is gone, as before; see docs/operations.md.

// lineageLua defines two functions for the publish and history scripts.
//
// lineage(meta, check, durable) reads the meta hash (e, o, r, c) and returns
// it as a table, its epoch set to false when the channel must start a new
// one, and the current replication ID (nil when check is not '1', in
// Cluster mode). A meta without r (written before this rule) adopts the
// current ID. A durable channel on a master promoted from the writing
// master's replica commits everything it holds and keeps its epoch.
//
// startEpoch(meta, stream, epoch, id, durable) empties the channel and
// starts epoch at offset 0, recording the lineage; it returns the committed
// offset ('0' for a durable channel, false otherwise).
const lineageLua = `
local function lineage(meta, check, durable)
  local m = redis.call('HMGET', meta, 'e', 'o', 'r', 'c')
  if check ~= '1' then
    return m, nil
  end
  local info = redis.call('INFO', 'replication')
  local id = string.match(info, 'master_replid:(%x+)')
  if m[1] and m[3] ~= id then
    if not m[3] then
      redis.call('HSET', meta, 'r', id)
    elseif durable == '1' and m[4] and m[3] == string.match(info, 'master_replid2:(%x+)') then
      redis.call('HSET', meta, 'r', id, 'c', m[2])
      m[4] = m[2]
    else
      m[1] = false
    end
  end
  return m, id
end
local function startEpoch(meta, stream, epoch, id, durable)
  redis.call('DEL', meta, stream)
  redis.call('HSET', meta, 'e', epoch, 'o', 0)
  if id then
    redis.call('HSET', meta, 'r', id)
  end
  if durable == '1' then
    redis.call('HSET', meta, 'c', 0)
    return '0'
  end
  return false
end
`

// commitScript makes a durable publication visible once WAIT confirmed its
// replicas: it advances the channel's committed offset and publishes it,
// unless the channel started a new epoch meanwhile (then the publication
// belongs to a history that is gone, and nobody may see it).
//
// KEYS: meta. ARGV: offset, epoch, pub/sub channel, message ("" for an
// idempotent repeat, which its first attempt published or the position
// check will fill), publish command. Returns 1 when committed.
var commitScript = redis.NewScript(`
local m = redis.call('HMGET', KEYS[1], 'e', 'c')
if m[1] ~= ARGV[2] then
  return 0
end
if m[2] and tonumber(ARGV[1]) > tonumber(m[2]) then
  redis.call('HSET', KEYS[1], 'c', ARGV[1])
end
if ARGV[4] ~= '' then
  redis.call(ARGV[5], ARGV[3], ARGV[4])
end
return 1
`)
