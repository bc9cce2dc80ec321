package broker

import "github.com/redis/go-redis/v9"

// Keys. Every key of one channel shares the hash tag {channel}, so the
// scripts touch one cluster slot and the sharded pub/sub channel lives in
// that same slot.
func metaKey(ch string) string     { return "wsg:{" + ch + "}:m" }
func streamKey(ch string) string   { return "wsg:{" + ch + "}:s" }
func presenceKey(ch string) string { return "wsg:{" + ch + "}:p" }
func presInfoKey(ch string) string { return "wsg:{" + ch + "}:pi" }
func pubsubName(ch string) string  { return "wsg:{" + ch + "}" }

const (
	controlChannel = "wsg:control"
	nodesKey       = "wsg:{nodes}"
	nodesInfoKey   = "wsg:{nodes}:info"
)

// channelOf is the inverse of pubsubName.
func channelOf(pubsub string) (string, bool) {
	if len(pubsub) < 7 || pubsub[:5] != "wsg:{" || pubsub[len(pubsub)-1] != '}' {
		return "", false
	}
	return pubsub[5 : len(pubsub)-1], true
}

// publishScript assigns the next offset, keeps (or starts) the epoch,
// appends to the capped stream, records the idempotency key and publishes,
// all in one atomic step: pub/sub order is offset order, and a publication
// is in history before anyone can see it live.
//
// The epoch follows the master's lineage (redis_lineage.go). In durable mode the
// script does not publish: the commit script does, once WAIT confirmed the
// replicas; and a repeat writes (refreshes its key's expiry), so that the
// WAIT after it also covers the first attempt's write.
//
// KEYS: meta, stream, the idempotency hash and order (redis_idemkeys.go; the meta
// key again when no key).
// ARGV: body, history size, history ttl ms, meta ttl ms, new epoch,
// pub/sub channel, "1" when idempotent, idempotency ttl ms, publish command,
// "1" to check the lineage, "1" in durable mode, idempotency key, how many
// keys the channel remembers, idempotency window ms.
// Returns {offset, epoch, 1 when it was a repeat}.
var publishScript = redis.NewScript(lineageLua + idempotencyLua + `
local now = false
if ARGV[7] == '1' then
  now = idemNow()
  local prev = idemFind(KEYS[3], KEYS[4], ARGV[12], now)
  if prev then
    if ARGV[11] == '1' then
      idemTouch(KEYS[3], KEYS[4], ARGV[14])
    end
    local sep = string.find(prev, ':', 1, true)
    return {tonumber(string.sub(prev, 1, sep - 1)), string.sub(prev, sep + 1), 1}
  end
end
local m, id = lineage(KEYS[1], ARGV[10], ARGV[11])
local epoch, committed = m[1], m[4]
if not epoch then
  epoch = ARGV[5]
  committed = startEpoch(KEYS[1], KEYS[2], epoch, id, ARGV[11])
end
local off = redis.call('HINCRBY', KEYS[1], 'o', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local msg = off .. '\n' .. epoch .. '\n' .. ARGV[1]
if tonumber(ARGV[2]) > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], off .. '-0', 'p', msg)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
if ARGV[7] == '1' then
  idemRecord(KEYS[3], KEYS[4], ARGV[12], off .. ':' .. epoch, now, ARGV[8], ARGV[13], ARGV[14])
end
if ARGV[11] ~= '1' then
  if committed then
    redis.call('HDEL', KEYS[1], 'c')
  end
  redis.call(ARGV[9], ARGV[6], msg)
elseif not committed then
  redis.call('HSET', KEYS[1], 'c', off - 1)
end
return {off, epoch, 0}
`)

// historyScript reads a channel's position and publications atomically,
// starting the channel's meta (offset 0, a new epoch) when it has none, so a
// subscriber to a silent channel gets an epoch it can recover with later.
//
// The epoch follows the master's lineage (redis_lineage.go); a durable channel's
// position and entries stop at its committed offset.
//
// The meta it starts expires after Redis.emptyTTL unless a publication
// comes: a read leaves nothing behind for long, and the position checks renew
// it while a node subscribes.
//
// KEYS: meta, stream. ARGV: new epoch, ttl ms of a meta it starts, mode ("since",
// "latest" or "position"), since offset, limit (0: all), byte budget (0:
// none), "1" to check the lineage, "1" in durable mode.
// Returns {offset, epoch, entries, truncated}; "latest" entries are newest
// first, except with a budget: then they are read in ascending order, chunk
// by chunk, from the oldest of the latest limit, and reading stops at the
// budget (always at least one entry), so a huge history is never loaded.
var historyScript = redis.NewScript(lineageLua + `
local m, id = lineage(KEYS[1], ARGV[7], ARGV[8])
local epoch = m[1]
local off = 0
local top = '+'
if not epoch then
  epoch = ARGV[1]
  startEpoch(KEYS[1], KEYS[2], epoch, id, ARGV[8])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  off = tonumber(m[2])
  if m[4] then
    off = tonumber(m[4])
    top = m[4] .. '-0'
  end
end
local limit = tonumber(ARGV[5])
local budget = tonumber(ARGV[6])
local entries = {}
if budget > 0 and ARGV[3] ~= 'position' then
  local start = '-'
  if ARGV[3] == 'since' then
    start = '(' .. ARGV[4] .. '-0'
  elseif limit > 0 and off > limit then
    start = '(' .. (off - limit) .. '-0'
  end
  local used = 0
  while limit == 0 or #entries < limit do
    local want = 32
    if limit > 0 and limit - #entries < want then
      want = limit - #entries
    end
    local chunk = redis.call('XRANGE', KEYS[2], start, top, 'COUNT', want)
    for _, e in ipairs(chunk) do
      used = used + string.len(e[2][2]) + 64
      if used > budget and #entries > 0 then
        return {off, epoch, entries, 1}
      end
      entries[#entries + 1] = e
      start = '(' .. e[1]
    end
    if #chunk < want then
      break
    end
  end
  return {off, epoch, entries, 0}
end
if ARGV[3] == 'since' then
  local start = '(' .. ARGV[4] .. '-0'
  if limit > 0 then
    entries = redis.call('XRANGE', KEYS[2], start, top, 'COUNT', limit)
  else
    entries = redis.call('XRANGE', KEYS[2], start, top)
  end
elseif ARGV[3] == 'latest' then
  if limit > 0 then
    entries = redis.call('XREVRANGE', KEYS[2], top, '-', 'COUNT', limit)
  else
    entries = redis.call('XREVRANGE', KEYS[2], top, '-')
  end
end
return {off, epoch, entries, 0}
`)

// presenceScript lists live presence entries and drops expired ones.
// KEYS: presence zset, presence info hash. ARGV: now (ms).
var presenceScript = redis.NewScript(`
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #dead > 0 then
  redis.call('HDEL', KEYS[2], unpack(dead))
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
end
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
if #live == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(live))
`)
