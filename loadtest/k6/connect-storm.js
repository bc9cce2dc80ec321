// connect-storm: ramp to CONNS connections over RAMP, hold them for HOLD,
// then close them. Each connection sends `connect` (and, with SUBSCRIBE,
// subscribes to one of CHANNELS channels, as a real client would) and the
// time from the dial to the connect reply is wsg_setup_time. At the end of
// the hold every VU counts its connections still open (wsg_held), so the
// run proves CONNS connections were held at once, not merely opened.
//
//   k6 run -e WS_URL=ws://127.0.0.1:8080/ws -e TOKEN=... -e CONNS=1000 loadtest/k6/connect-storm.js
//
// A VU holds CONNS_PER_VU connections (k6 costs about 0.33 MiB per VU);
// the ramp is linear over all connections.
import exec from 'k6/execution';
import { int, seconds, bool, str, dur, WS_URL, TOKEN, CHANNEL_PREFIX, SETUP_P99_MS } from './lib/env.js';
import { m, summaryTrendStats } from './lib/metrics.js';
import { Conn, sleep, raceTimeout } from './lib/wsg.js';
import { logLimited } from './lib/clients.js';
import { summary } from './lib/summary.js';

const CONNS = int('CONNS', 1000);
const CONNS_PER_VU = int('CONNS_PER_VU', 5);
const RAMP = seconds('RAMP', 30);
const HOLD = seconds('HOLD', 30);
const SUBSCRIBE = bool('SUBSCRIBE', true);
const CHANNELS = int('CHANNELS', 10);
const CONNECT_TIMEOUT = seconds('CONNECT_TIMEOUT', 10);
if (CONNS < 1 || CONNS_PER_VU < 1 || CHANNELS < 1 || RAMP <= 0 || HOLD < 2) throw new Error('need CONNS, CONNS_PER_VU, CHANNELS >= 1, RAMP > 0 and HOLD >= 2s');
const VUS = Math.ceil(CONNS / CONNS_PER_VU);

const params = { CONNS, CONNS_PER_VU, RAMP, HOLD, SUBSCRIBE, CHANNELS, WS_URL, SETUP_P99_MS, connect_rate_per_s: CONNS / RAMP };

export const options = {
  summaryTrendStats,
  scenarios: {
    storm: {
      executor: 'ramping-vus',
      exec: 'storm',
      startVUs: 0,
      stages: [
        { duration: dur(RAMP), target: VUS },
        { duration: dur(HOLD), target: VUS },
      ],
      gracefulRampDown: '10s',
      gracefulStop: '10s',
    },
  },
  thresholds: {
    wsg_setup_time: [`p(99)<${SETUP_P99_MS}`],
    wsg_connects: [`count>=${CONNS}`],
    wsg_held: [`count>=${CONNS}`],
    wsg_connect_errors: ['count==0'],
    wsg_subscribe_errors: ['count==0'],
    wsg_unexpected_closes: ['count==0'],
    wsg_bad_lines: ['count==0'],
  },
};

export function setup() {
  return { run: str('RUN_ID', String(Date.now())) };
}

async function one(data, n) {
  const c = new Conn(WS_URL, {
    token: TOKEN,
    onBadLine: (line) => {
      m.badLines.add(1);
      logLimited(`unexpected line: ${String(line).slice(0, 200)}`);
    },
  });
  try {
    const { setupMs } = await c.open(CONNECT_TIMEOUT * 1000);
    m.setupTime.add(setupMs);
    m.connects.add(1);
  } catch (e) {
    m.connectErrors.add(1);
    logLimited(`connection ${n}: ${e.message || e}`);
    return null;
  }
  c.closed.then((info) => {
    if (!info.byUs) {
      m.unexpectedCloses.add(1, { code: String(info.code) });
      logLimited(`connection ${n} closed ${info.code} ${info.reason}`);
    }
  });
  if (SUBSCRIBE) {
    try {
      await c.command({ op: 'subscribe', channel: `${CHANNEL_PREFIX}storm-${data.run}-${n % CHANNELS}` }, CONNECT_TIMEOUT * 1000);
    } catch (e) {
      m.subscribeErrors.add(1);
      logLimited(`subscribe ${n}: ${e.message || e}`);
    }
  }
  return c;
}

export async function storm(data) {
  const t0 = exec.scenario.startTime;
  // The connections still open are counted a second before the stages
  // end, then closed (within gracefulRampDown).
  const stagesEnd = t0 + (RAMP + HOLD) * 1000;
  const holdEnd = stagesEnd - 1000;
  if (exec.vu.iterationInScenario > 0 || Date.now() >= holdEnd) {
    // One set of connections per VU: a VU that comes round again waits out the run.
    await sleep(stagesEnd - Date.now());
    return;
  }
  // VU v starts about v/VUS into the ramp; its j-th dial is j dial gaps
  // later, so connection n = v*CONNS_PER_VU+j is dialled about n gaps in.
  const vu = exec.vu.idInTest - 1;
  const gap = (RAMP * 1000) / CONNS;
  const pending = [];
  for (let j = 0; j < CONNS_PER_VU; j++) {
    const n = vu * CONNS_PER_VU + j;
    if (n >= CONNS) break;
    pending.push(sleep(j * gap).then(() => one(data, n)));
  }
  const conns = (await Promise.all(pending)).filter((c) => c !== null);
  await sleep(holdEnd - Date.now());
  m.held.add(conns.filter((c) => !c.isClosed).length);
  for (const c of conns) c.close();
  await raceTimeout(Promise.all(conns.map((c) => c.closed)), 5000, null);
}

export function handleSummary(data) {
  return summary('connect-storm', data, params);
}
