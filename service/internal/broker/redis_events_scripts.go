package broker

import "github.com/redis/go-redis/v9"

// lifecycleLua is shared by the apply and sweep scripts. Both run in one
// partition of the events stream group, so every key they touch carries
// that partition's hash tag ({s:events:<p>}) and the scripts are legal on
// Redis Cluster. The state and the event that reports its change are
// written in one atomic step: no event is ever lost or emitted twice for
// one transition, whichever node (or how many nodes at once) runs them.
//
// KEYS: [1] the partition stream, [2] the seq HASH, [3] the expiry index
// (exp), [4] the vacated ZSET (vac). The subject sets (u:<user>, c:<channel>)
// are the partition's prefix (ARGV[5]) plus kind and name: same hash tag,
// same slot.
//
// An exp member is "<kind>\t<client>\t<node>\t<user>\t<channel>", kind k
// (the connection), u (the user's set), c (a channel's set); its score is
// when it expires unless its node refreshes it.
const lifecycleLua = `
local q, seqk, expk, vack = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, due, maxlen, prefix = ARGV[1], ARGV[3], ARGV[4], ARGV[5]
local out = {}

local function emit(subject, typ, f, detail)
  local seq = redis.call('HINCRBY', seqk, subject, 1)
  local a = {'XADD', q, 'MAXLEN', '~', maxlen, '*', 'type', typ, 'time_ms', now, 'seq', seq, 'subject', subject}
  for i = 1, #f, 2 do
    if f[i + 1] ~= '' then
      a[#a + 1] = f[i]
      a[#a + 1] = f[i + 1]
    end
  end
  redis.call(unpack(a))
  out[#out + 1] = detail or typ
end

local function subjectOf(kind, client, user, channel)
  if kind == 'k' then return 'client:' .. client end
  if kind == 'u' then return 'user:' .. user end
  return 'channel:' .. channel
end

local function setOf(kind, user, channel)
  if kind == 'u' then return prefix .. 'u:' .. user end
  return prefix .. 'c:' .. channel
end

local function add(kind, client, node, user, channel, exp)
  local new = redis.call('ZADD', expk, exp, kind .. '\t' .. client .. '\t' .. node .. '\t' .. user .. '\t' .. channel)
  local subject = subjectOf(kind, client, user, channel)
  if kind == 'k' then
    if new == 1 then emit(subject, 'connection.opened', {'user', user, 'client', client, 'node', node}) end
    return
  end
  local set = setOf(kind, user, channel)
  local before = redis.call('ZCARD', set)
  if redis.call('ZADD', set, exp, client) == 0 then return end
  if kind == 'u' then
    if before == 0 then emit(subject, 'user.online', {'user', user, 'client', client, 'node', node}) end
    return
  end
  -- A channel still waiting to be reported vacated was left and re-joined
  -- within --vacated-delay: nothing changed for the backend.
  if before == 0 and redis.call('ZREM', vack, channel) == 0 then
    emit(subject, 'channel.occupied', {'channel', channel})
  end
  emit(subject, 'presence.join', {'channel', channel, 'user', user, 'client', client, 'node', node},
    'presence.join\t' .. channel .. '\t' .. user .. '\t' .. client)
end

local function remove(kind, client, node, user, channel, code)
  local gone = redis.call('ZREM', expk, kind .. '\t' .. client .. '\t' .. node .. '\t' .. user .. '\t' .. channel)
  local subject = subjectOf(kind, client, user, channel)
  if kind == 'k' then
    if gone == 1 then emit(subject, 'connection.closed', {'user', user, 'client', client, 'node', node, 'code', code}) end
    return
  end
  local set = setOf(kind, user, channel)
  if redis.call('ZREM', set, client) == 0 then return end
  local left = redis.call('ZCARD', set)
  if kind == 'u' then
    if left == 0 then emit(subject, 'user.offline', {'user', user, 'client', client, 'node', node}) end
    return
  end
  emit(subject, 'presence.leave', {'channel', channel, 'user', user, 'client', client, 'node', node},
    'presence.leave\t' .. channel .. '\t' .. user .. '\t' .. client)
  if left == 0 then redis.call('ZADD', vack, due, channel) end
end
`

// applyScript applies a node's lifecycle changes in one partition, in
// order. ARGV: now ms, expiry ms of added entries, vacated due ms, stream
// MAXLEN, key prefix, then 7 strings per change: action (a: add or refresh,
// r: remove), kind, client, node, user, channel, close code. Adding what
// is there only moves its expiry; removing what is gone does nothing: a
// change applied twice (a retry) emits nothing the second time.
// Returns the events emitted (see Emitted).
var applyScript = redis.NewScript(lifecycleLua + `
for i = 6, #ARGV, 7 do
  if ARGV[i] == 'a' then
    add(ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[2])
  else
    remove(ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6])
  end
end
return out
`)

// sweepScript removes one partition's expired entries (their node died or
// lost Redis for longer than the entry TTL) with connection.closed
// {code: node_lost} and the transitions that follow, then reports the
// channels whose vacated delay is over and that nobody re-joined. Any node
// may run it at any time: what it removes is gone for the next run.
// ARGV: now ms, unused, vacated due ms for channels it empties, MAXLEN,
// key prefix, the most entries to handle in one run.
var sweepScript = redis.NewScript(lifecycleLua + `
local function split(s)
  local t, i = {}, 1
  while true do
    local j = string.find(s, '\t', i, true)
    if not j then
      t[#t + 1] = string.sub(s, i)
      return t
    end
    t[#t + 1] = string.sub(s, i, j - 1)
    i = j + 1
  end
end
local limit = tonumber(ARGV[6])
for _, m in ipairs(redis.call('ZRANGEBYSCORE', expk, '-inf', now, 'LIMIT', 0, limit)) do
  local f = split(m)
  remove(f[1], f[2], f[3], f[4], f[5], 'node_lost')
end
for _, ch in ipairs(redis.call('ZRANGEBYSCORE', vack, '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', vack, ch)
  if redis.call('EXISTS', prefix .. 'c:' .. ch) == 0 then
    emit('channel:' .. ch, 'channel.vacated', {'channel', ch})
  end
end
return out
`)
