package broker

// A channel's idempotency keys live in Redis in two keys that share its hash
// tag, so that their number is capped: a hash from key to the position it
// was first published at ("offset:epoch"), and a sorted set of the same keys
// scored by when each one expires (unix ms, from Redis's clock). Beyond
// idempotencyCap keys, the one that expires first is forgotten (the oldest,
// among keys of the same lifetime), and both keys expire with their last
// entry. One key per idempotency key, as before, made a channel's keys grow
// with its publish rate for the whole window.
func idemKeysKey(ch string) string  { return "wsg:{" + ch + "}:i" }
func idemOrderKey(ch string) string { return "wsg:{" + ch + "}:iz" }

// idempotencyLua defines the functions the publish script uses on those two
// keys, h (the hash) and z (the sorted set). Expired entries are forgotten
// at most 100 per call, so that no call does unbounded work (each record adds
// one); the cap holds after every record.
//
// idemNow() is Redis's clock in ms. idemFind(h, z, key, now) returns the
// position recorded for key, unless it expired. idemRecord(h, z, key, pos,
// now, ttl, cap) records key, forgets what expired or is beyond cap, and
// sets both keys to expire with their last entry. idemTouch(h, z) sets that
// expiry again: a write, for a repeat in durable mode (see publishScript).
const idempotencyLua = `
local function idemNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function idemFind(h, z, key, now)
  local pos = redis.call('HGET', h, key)
  if not pos then
    return false
  end
  local exp = redis.call('ZSCORE', z, key)
  if not exp or tonumber(exp) <= now then
    return false
  end
  return pos
end
local function idemTouch(h, z)
  local last = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
  if #last == 2 then
    redis.call('PEXPIREAT', h, last[2])
    redis.call('PEXPIREAT', z, last[2])
  end
end
local function idemForget(h, z, gone)
  if #gone > 0 then
    redis.call('HDEL', h, unpack(gone))
    redis.call('ZREM', z, unpack(gone))
  end
end
local function idemRecord(h, z, key, pos, now, ttl, cap)
  idemForget(h, z, redis.call('ZRANGEBYSCORE', z, '-inf', now, 'LIMIT', 0, 100))
  redis.call('HSET', h, key, pos)
  redis.call('ZADD', z, now + tonumber(ttl), key)
  local over = redis.call('ZCARD', z) - tonumber(cap)
  if over > 0 then
    local popped = redis.call('ZPOPMIN', z, math.min(over, 100))
    local gone = {}
    for i = 1, #popped, 2 do
      gone[#gone + 1] = popped[i]
    end
    redis.call('HDEL', h, unpack(gone))
  end
  idemTouch(h, z)
end
`
