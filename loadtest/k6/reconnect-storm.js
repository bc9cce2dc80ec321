// reconnect-storm: CLIENTS subscribers (one of CHANNELS channels each)
// behind the load balancer while publishers post RATE publications per
// second through the API for DURATION. Meanwhile the orchestration
// (loadtest/run) drains (SIGTERM: close 1012 spread over
// --drain-window) or kills (SIGKILL) one node: this script does not do it,
// k6 cannot. Every client whose connection closes reconnects to the load
// balancer with full-jitter exponential backoff (docs/protocol.md:
// BACKOFF_BASE, BACKOFF_CAP, reset after STABLE_AFTER), subscribes with
// recover:true and its last offset and epoch, and checks that the recovered
// publications plus the live ones leave no gap and no repeat.
//
// Measured: wsg_recovery_time (a client's close -> its recovered subscribe
// reply), and derived.storm_ms in the JSON summary: from the first close to
// the last recovery, i.e. the time until every client had resubscribed and
// recovered. Nothing may be lost (wsg_lost, wsg_not_recovered,
// wsg_recover_failed all 0). With EXPECT_STORM=true (the default) the run
// fails when no client was disconnected: a storm that did not happen
// proves nothing. FAULT (set by the orchestration: drain or kill) only
// labels the run, except that with FAULT=drain the clients must have seen
// close code 1012.
//
//   k6 run -e WS_URL=ws://LB/ws -e API_URL=http://LB-API -e API_KEY=... -e TOKEN=... \
//     -e CLIENTS=300 loadtest/k6/reconnect-storm.js   # then kill or drain a node
import exec from 'k6/execution';
import { int, seconds, bool, num, str, dur, WS_URL, SETUP_P99_MS } from './lib/env.js';
import { summaryTrendStats } from './lib/metrics.js';
import { runSubscriber, publish, runSetup, runChannel, rampedSubscriber } from './lib/clients.js';
import { summary } from './lib/summary.js';

const CLIENTS = int('CLIENTS', 300);
const CHANNELS = int('CHANNELS', 10);
const RATE = int('RATE', 20);
const PAYLOAD = int('PAYLOAD', 100);
const RAMP = seconds('RAMP', 10);
const SETTLE = seconds('SETTLE', 2);
const DURATION = seconds('DURATION', 60);
const DRAIN = seconds('DRAIN', 10);
const BACKOFF_BASE = seconds('BACKOFF_BASE', 0.25);
const BACKOFF_CAP = seconds('BACKOFF_CAP', 10);
const STABLE_AFTER = seconds('STABLE_AFTER', 30);
const CONNECT_TIMEOUT = seconds('CONNECT_TIMEOUT', 10);
const RECOVERY_P99_MS = num('RECOVERY_P99_MS', 5000);
const EXPECT_STORM = bool('EXPECT_STORM', true);
const PUBLISH_RETRIES = int('PUBLISH_RETRIES', 3);
if (CLIENTS < 1 || CHANNELS < 1 || CHANNELS > CLIENTS || RATE < 1) throw new Error('need CLIENTS >= CHANNELS >= 1 and RATE >= 1');

const params = { CLIENTS, CHANNELS, RATE, PAYLOAD, RAMP, SETTLE, DURATION, DRAIN, BACKOFF_BASE, BACKOFF_CAP, STABLE_AFTER,
  RECOVERY_P99_MS, EXPECT_STORM, PUBLISH_RETRIES, WS_URL, FAULT: str('FAULT', '') };

const thresholds = {
  wsg_setup_time: [`p(99)<${SETUP_P99_MS}`],
  wsg_connects: [`count>=${CLIENTS}`],
  wsg_connect_errors: ['count==0'],
  wsg_subscribed: [`count>=${CLIENTS}`],
  wsg_deliveries: ['count>0'],
  wsg_lost: ['count==0'],
  wsg_duplicated: ['count==0'],
  wsg_epoch_changes: ['count==0'],
  wsg_recover_failed: ['count==0'],
  wsg_not_recovered: ['count==0'],
  wsg_not_drained: ['count==0'],
  wsg_bad_lines: ['count==0'],
  wsg_recovery_time: [`p(99)<${RECOVERY_P99_MS}`],
  wsg_publishes: ['count>0'],
  wsg_publish_errors: ['count==0'],
  // Listed so that the summary shows the closes by code.
  'wsg_disconnects{code:1012}': ['count>=0'],
  'wsg_disconnects{code:1006}': ['count>=0'],
  'wsg_disconnects{code:1001}': ['count>=0'],
};
// Without EXPECT_STORM these stay listed (count>=0) so the summary shows them.
thresholds.wsg_disconnects = [EXPECT_STORM ? 'count>0' : 'count>=0'];
thresholds.wsg_recovered = [EXPECT_STORM ? 'count>0' : 'count>=0'];
// A drained node closes its connections with 1012 (docs/operations.md#draining-and-rollouts):
// with FAULT=drain at least one client must have seen it.
if (EXPECT_STORM && str('FAULT', '') === 'drain') thresholds['wsg_disconnects{code:1012}'] = ['count>0'];

export const options = {
  summaryTrendStats,
  scenarios: {
    clients: {
      executor: 'per-vu-iterations',
      exec: 'client',
      vus: CLIENTS,
      iterations: 1,
      maxDuration: dur(RAMP + SETTLE + DURATION + DRAIN + CONNECT_TIMEOUT + 10),
      gracefulStop: '5s',
    },
    publishers: {
      executor: 'constant-arrival-rate',
      exec: 'publisher',
      rate: RATE,
      timeUnit: '1s',
      duration: dur(DURATION),
      startTime: dur(RAMP + SETTLE),
      preAllocatedVUs: Math.max(4, Math.ceil(RATE / 10)),
      maxVUs: Math.max(20, RATE * 2),
      gracefulStop: '5s',
    },
  },
  thresholds,
};

export function setup() {
  return runSetup();
}

const timeline = { kind: 'storm', clients: CLIENTS, channels: CHANNELS, RAMP, SETTLE, DURATION, DRAIN, CONNECT_TIMEOUT };

export async function client(data) {
  await runSubscriber({
    ...rampedSubscriber({ ...timeline, run: data.run }),
    reconnect: true,
    backoffBaseMs: BACKOFF_BASE * 1000,
    backoffCapMs: BACKOFF_CAP * 1000,
    stableAfterMs: STABLE_AFTER * 1000,
  });
}

export function publisher(data) {
  const i = exec.scenario.iterationInTest;
  publish(runChannel('storm', data.run, CHANNELS, i), PAYLOAD, i, PUBLISH_RETRIES, `${data.run}-${i}`);
}

export function handleSummary(data) {
  return summary('reconnect-storm', data, params, (d) => {
    const v = (name, stat) => (d.metrics[name] && d.metrics[name].values[stat]) || 0;
    const closes = v('wsg_disconnects', 'count');
    return {
      // From the first close to the last recovery: how long the storm took
      // until every disconnected client had resubscribed and recovered.
      storm_ms: closes > 0 && v('wsg_recovered_at', 'count') > 0 ? v('wsg_recovered_at', 'max') - v('wsg_close_at', 'min') : 0,
      first_close_at_ms: v('wsg_close_at', 'min'),
      last_recovery_at_ms: v('wsg_recovered_at', 'max'),
      disconnected_clients: closes,
      recovered_subscriptions: v('wsg_recovered', 'count'),
      recovered_publications: v('wsg_recovered_publications', 'count'),
    };
  });
}
