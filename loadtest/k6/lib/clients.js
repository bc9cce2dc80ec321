// The two roles the fan-out, reconnect-storm and soak scenarios share:
//   runSubscriber  one client: connects, subscribes to its channels, checks
//                  every publication's offset, optionally reconnects (full
//                  jitter backoff) and recovers, and at the end compares its
//                  position with the channel's (from the API) so that a
//                  missing tail counts as lost;
//   publish        one publication through the backend API, stamped with
//                  its send time (data.t, ms since the epoch) so that
//                  subscribers measure the delivery latency.

import http from 'k6/http';
import exec from 'k6/execution';
import { sleep as sleepSync } from 'k6';
import { Conn, CommandError, Stream, sleep, raceTimeout, backoffMs } from './wsg.js';
import { m } from './metrics.js';
import { API_URL, API_KEY, CHANNEL_PREFIX, TOKEN, WS_URL, str } from './env.js';

// runSetup is the scenarios' setup(): one run id for every VU (init code
// runs once per VU), so channel names do not collide with earlier runs.
export function runSetup() {
  return { run: str('RUN_ID', String(Date.now())) };
}

// runChannel is the channel of a run's i-th client or publication: the run
// has n channels named <prefix><kind>-<run>-<k>, used round robin.
export function runChannel(kind, run, n, i) {
  return `${CHANNEL_PREFIX}${kind}-${run}-${i % n}`;
}

// rampedSubscriber returns the runSubscriber options of this iteration's
// client when the scenario's clients dial spread evenly over RAMP, stay
// through SETTLE and DURATION, and then wait up to DRAIN for the last
// offsets. t: {kind, run, clients, channels, RAMP, SETTLE, DURATION, DRAIN,
// CONNECT_TIMEOUT} (seconds); extra options are added by the caller.
export function rampedSubscriber(t) {
  const idx = exec.scenario.iterationInTest;
  const t0 = exec.scenario.startTime;
  return {
    url: WS_URL,
    token: TOKEN,
    channels: [runChannel(t.kind, t.run, t.channels, idx)],
    t0,
    startAt: t0 + (idx / t.clients) * t.RAMP * 1000,
    endAt: t0 + (t.RAMP + t.SETTLE + t.DURATION) * 1000,
    drainMs: t.DRAIN * 1000,
    connectTimeoutMs: t.CONNECT_TIMEOUT * 1000,
    commandTimeoutMs: 10000,
    reconnect: false,
    pingEveryMs: 0,
  };
}

function apiParams(name) {
  const headers = { 'Content-Type': 'application/json' };
  if (API_KEY) headers.Authorization = `apikey ${API_KEY}`;
  return { headers, timeout: '5s', tags: { name } };
}

// Error logs are capped per VU so that a broken run stays readable.
let logged = 0;
export function logLimited(msg) {
  if (logged < 5) console.warn(msg);
  else if (logged === 5) console.warn('(further errors of this VU are not logged)');
  logged++;
}

const pads = {};

// publish posts one stamped publication to channel through the API. With
// retries > 0 a failed call (an error status other than 4xx, or no answer)
// is retried, after 100 ms, 200 ms, ..., with the same idempotency_key, so
// that a publication whose first attempt did reach the gateway is not made
// twice: what a backend does while a node goes away.
export function publish(channel, payloadBytes, seq, retries = 0, key = '') {
  const padLen = Math.max(0, payloadBytes - 40);
  const pad = pads[padLen] || (pads[padLen] = 'x'.repeat(padLen));
  const msg = { channel, data: { t: Date.now(), seq, pad } };
  if (key) msg.idempotency_key = key;
  const body = JSON.stringify(msg);
  for (let attempt = 0; ; attempt++) {
    const res = http.post(`${API_URL}/api/v1/publish`, body, apiParams('publish'));
    m.publishTime.add(res.timings.duration);
    if (res.status === 200) {
      m.publishes.add(1);
      return;
    }
    const retriable = res.status === 0 || res.status >= 500;
    if (!retriable || attempt >= retries) {
      m.publishErrors.add(1);
      logLimited(`publish to ${channel}: HTTP ${res.status} ${res.error || ''} ${String(res.body || '').slice(0, 200)}`);
      return;
    }
    m.publishRetries.add(1);
    sleepSync(0.1 * (attempt + 1));
  }
}

// channelPosition asks the API for a channel's current offset and epoch;
// null when it cannot.
export function channelPosition(channel) {
  const res = http.get(`${API_URL}/api/v1/history?channel=${encodeURIComponent(channel)}&limit=1`, apiParams('history'));
  if (res.status !== 200) {
    logLimited(`history of ${channel}: HTTP ${res.status} ${res.error || ''}`);
    return null;
  }
  const b = res.json();
  return { offset: b.offset, epoch: b.epoch };
}

// handlePublication checks one publication against the stream; live ones
// count as deliveries with a latency, those from a recovery reply do not.
function handlePublication(stream, p, fromRecovery) {
  switch (stream.accept(p.offset, p.epoch)) {
    case 'dup':
      m.duplicated.add(1);
      return;
    case 'gap':
      m.lost.add(stream.missing);
      break;
    case 'epoch':
      m.epochChanges.add(1);
      break;
  }
  if (fromRecovery) {
    m.recoveredPublications.add(1);
    return;
  }
  m.deliveries.add(1);
  const t = p.data && p.data.t;
  if (typeof t === 'number') m.deliveryLatency.add(Date.now() - t);
}

// applySubscribeReply updates a stream from the reply to cmd (run while the
// reply line is read, before any push behind it). It returns true when the
// subscription continues without a gap: a plain subscribe, or recovered:true.
function applySubscribeReply(stream, cmd, res) {
  if (!cmd.recover) {
    stream.position(res.offset, res.epoch);
    return true;
  }
  if (res.recovered) {
    const pubs = res.publications || [];
    for (let i = 0; i < pubs.length; i++) handlePublication(stream, pubs[i], true);
    if (res.epoch === stream.epoch && res.offset > stream.offset) {
      m.lost.add(res.offset - stream.offset); // recovered:true must bring every offset
    }
    stream.position(res.offset, res.epoch);
    m.recovered.add(1);
    return true;
  }
  m.recoverFailed.add(1);
  if (res.epoch === stream.epoch && res.offset > stream.offset) m.lost.add(res.offset - stream.offset);
  else if (res.epoch !== stream.epoch) m.epochChanges.add(1);
  stream.position(res.offset, res.epoch);
  return false;
}

// subscribe sends one frame of subscribes (with recovery where a position
// is known); it resolves with true when every one continued without a gap.
async function subscribe(conn, streams, timeoutMs) {
  const cmds = streams.map((s) => s.subscribeCommand());
  let ok = true;
  await conn.commands(cmds, timeoutMs, (i, msg) => {
    if (msg.result && !applySubscribeReply(streams[i], cmds[i], msg.result)) ok = false;
  });
  return ok;
}

// runSubscriber is one client's life; o:
//   url, token, channels        where and what
//   t0                          ms epoch the scenario started (closeAt, recoveredAt)
//   startAt                     ms epoch to dial at
//   endAt                       ms epoch the live phase ends (publishing has stopped)
//   drainMs                     after endAt, longest wait for the channels' last offsets
//   reconnect                   reconnect and recover after an unexpected close
//   backoffBaseMs, backoffCapMs, stableAfterMs   the reconnect backoff (docs/protocol.md)
//   connectTimeoutMs, commandTimeoutMs
//   pingEveryMs                 > 0: a ping command that often, its round trip in wsg_command_rtt
export async function runSubscriber(o) {
  const streams = o.channels.map((c) => new Stream(c));
  const byChannel = {};
  for (const s of streams) byChannel[s.channel] = s;
  let live = null; // the connection still open at endAt
  let everConnected = false;
  let everSubscribed = false;
  let attempt = 0;
  let closedAt = 0;

  await sleep(o.startAt - Date.now());
  while (Date.now() < o.endAt) {
    const conn = new Conn(o.url, {
      token: o.token,
      onBadLine: (line) => {
        m.badLines.add(1);
        logLimited(`unexpected line: ${String(line).slice(0, 200)}`);
      },
      onPush: (msg) => {
        const s = byChannel[msg.channel];
        if (!s) return;
        if (msg.push === 'pub') {
          handlePublication(s, msg, false);
        } else if (msg.push === 'unsub') {
          // A gap the server announces: subscribe again with recovery.
          m.unsubs.add(1, { reason: String(msg.reason) });
          subscribe(conn, [s], o.commandTimeoutMs).catch((e) => logLimited(`resubscribe ${s.channel}: ${e}`));
        }
      },
    });
    let opened;
    try {
      opened = await conn.open(o.connectTimeoutMs);
    } catch (e) {
      if (!everConnected) m.connectErrors.add(1);
      else m.reconnectErrors.add(1);
      logLimited(`connect to ${o.url}: ${e.message || e}`);
      if (!o.reconnect) break;
      await sleep(Math.min(backoffMs(attempt++, o.backoffBaseMs, o.backoffCapMs), o.endAt - Date.now()));
      continue;
    }
    const openedAt = Date.now();
    if (!everConnected) {
      everConnected = true;
      m.setupTime.add(opened.setupMs);
      m.connects.add(1);
    } else {
      m.reconnects.add(1);
    }
    const recovering = streams.some((s) => s.known());
    let continued;
    try {
      continued = await subscribe(conn, streams, o.commandTimeoutMs);
    } catch (e) {
      m.subscribeErrors.add(1, { code: e instanceof CommandError ? e.code : 'other' });
      logLimited(`subscribe: ${e.message || e}`);
      conn.close();
      await raceTimeout(conn.closed, 2000, null);
      if (!o.reconnect) break;
      closedAt = closedAt || Date.now();
      await sleep(Math.min(backoffMs(attempt++, o.backoffBaseMs, o.backoffCapMs), o.endAt - Date.now()));
      continue;
    }
    if (!everSubscribed) {
      everSubscribed = true;
      m.subscribed.add(1);
    }
    if (recovering && continued && closedAt > 0) {
      const now = Date.now();
      m.recoveryTime.add(now - closedAt);
      m.recoveredAt.add(now - o.t0);
    }
    closedAt = 0;

    // Live until endAt, or until the connection closes under us.
    let closed = null;
    while (closed === null && Date.now() < o.endAt) {
      const wait = o.pingEveryMs > 0 ? Math.min(o.pingEveryMs, o.endAt - Date.now()) : o.endAt - Date.now();
      closed = await raceTimeout(conn.closed, wait, null);
      if (closed === null && o.pingEveryMs > 0 && Date.now() < o.endAt) {
        const t = Date.now();
        try {
          await conn.command({ op: 'ping' }, o.commandTimeoutMs);
          m.commandRtt.add(Date.now() - t);
          m.commands.add(1);
        } catch (e) {
          m.commandErrors.add(1);
          logLimited(`ping: ${e.message || e}`);
        }
      }
    }
    if (closed === null) {
      live = conn;
      break;
    }
    closedAt = Date.now();
    const tags = { code: String(closed.code) };
    m.unexpectedCloses.add(1, tags);
    m.disconnects.add(1, tags);
    m.closeAt.add(closedAt - o.t0);
    if (closedAt - openedAt >= o.stableAfterMs) attempt = 0;
    if (!o.reconnect) {
      logLimited(`connection closed ${closed.code} ${closed.reason}; not reconnecting in this scenario`);
      break;
    }
    await sleep(Math.min(backoffMs(attempt++, o.backoffBaseMs, o.backoffCapMs), o.endAt - Date.now()));
  }

  await finish(o, streams, live, everSubscribed);
}

// finish compares the client's position with each channel's final one:
// it waits (up to drainMs) for the last publications, then counts whatever
// is still missing as lost, and closes.
async function finish(o, streams, live, everSubscribed) {
  if (o.reconnect && everSubscribed && live === null) m.notRecovered.add(1);
  await sleep(o.endAt + 500 - Date.now()); // publishes in flight at endAt
  const finals = [];
  for (const s of streams) {
    if (!s.known()) continue; // never subscribed: counted in wsg_subscribed
    const pos = channelPosition(s.channel);
    if (pos === null) m.notDrained.add(1);
    else finals.push({ s, pos });
  }
  const behind = () => finals.some(({ s, pos }) => s.epoch === pos.epoch && s.offset < pos.offset);
  const until = Date.now() + o.drainMs;
  while (live !== null && !live.isClosed && behind() && Date.now() < until) await sleep(100);
  let missing = false;
  for (const { s, pos } of finals) {
    if (s.epoch !== pos.epoch) {
      m.epochChanges.add(1);
      missing = true;
    } else if (s.offset < pos.offset) {
      m.lost.add(pos.offset - s.offset);
      missing = true;
    }
  }
  if (missing) {
    m.notDrained.add(1);
    logLimited(`behind at the end: ${finals.map(({ s, pos }) => `${s.channel} at ${s.offset}/${pos.offset}`).join(', ')}`);
  }
  if (live !== null) {
    live.close();
    await raceTimeout(live.closed, 2000, null);
  }
}
