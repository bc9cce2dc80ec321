package broker

// A channel's idempotency keys live in Redis in two keys that share its hash
// tag, so that their number is capped: a hash from key to the position it
// was first published at ("offset:epoch"), and a sorted set of the same keys
// scored by when each one expires (unix ms, from Redis's clock). Beyond
// idempotencyCap keys, the one that expires first is forgotten (the oldest,
// among keys of the same lifetime), and both keys expire a window
// (protocol.IdempotencyWindow) after the last keyed publish. One key per idempotency key, as before, made a channel's keys grow
// with its publish rate for the whole window.
func idemKeysKey(ch string) string  { return "wsg:{" + ch + "}:i" }
func idemOrderKey(ch string) string { return "wsg:{" + ch + "}:iz" }

// idempotencyLua defines the functions the publish script uses on those two
// keys, h (the hash) and z (the sorted set). Expired entries are not swept:
// a lookup checks the entry's expiry, and beyond the cap ZPOPMIN takes the
// entries that expire first, so expired ones go before any live one; below
// the cap they go with the keys. That keeps a keyed publish to a handful of
// O(log n) commands.
//
// idemNow() is Redis's clock in ms. idemFind(h, z, key, now) returns the
// position recorded for key, unless it expired. idemTouch(h, z, window) sets
// both keys to expire a window from now (every entry's lifetime is at most
// a window); for a repeat in durable mode it is the write that WAIT then
// covers (see publishScript). idemRecord(h, z, key, pos, now, ttl, cap,
// window) records key for ttl ms and forgets the entries beyond cap.
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
local function idemTouch(h, z, window)
  redis.call('PEXPIRE', h, window)
  redis.call('PEXPIRE', z, window)
end
local function idemRecord(h, z, key, pos, now, ttl, cap, window)
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
  idemTouch(h, z, window)
end
`
