// soak: steady load for a long, configurable time (DURATION, default 30m):
// SUBS subscribers on CHANNELS channels, RATE publications per second
// through the API, and every subscriber sends a `ping` command every
// PING_EVERY (its round trip in wsg_command_rtt), so that both the push
// path and the command path are exercised all along. The same offset
// checks as fanout: nothing lost, nothing repeated, no unexpected close.
// Watch the gateways' memory and goroutines meanwhile (loadtest/run
// samples each node's /metrics into soak-nodes.csv).
//
//   k6 run -e WS_URL=... -e API_URL=... -e API_KEY=... -e TOKEN=... -e DURATION=2h loadtest/k6/soak.js
import exec from 'k6/execution';
import { int, seconds, num, WS_URL, SETUP_P99_MS, DELIVERY_P99_MS } from './lib/env.js';
import { summaryTrendStats } from './lib/metrics.js';
import { steadyScenarios, steadyThresholds } from './lib/steady.js';
import { runSubscriber, publish, runSetup, runChannel, rampedSubscriber } from './lib/clients.js';
import { summary } from './lib/summary.js';

const SUBS = int('SUBS', 200);
const CHANNELS = int('CHANNELS', 20);
const RATE = int('RATE', 20);
const PAYLOAD = int('PAYLOAD', 100);
const RAMP = seconds('RAMP', 10);
const SETTLE = seconds('SETTLE', 2);
const DURATION = seconds('DURATION', 1800);
const DRAIN = seconds('DRAIN', 5);
const PING_EVERY = seconds('PING_EVERY', 10);
const COMMAND_P99_MS = num('COMMAND_P99_MS', 100);
const CONNECT_TIMEOUT = seconds('CONNECT_TIMEOUT', 10);
if (SUBS < 1 || CHANNELS < 1 || CHANNELS > SUBS || RATE < 1 || PING_EVERY <= 0) {
  throw new Error('need SUBS >= CHANNELS >= 1, RATE >= 1 and PING_EVERY > 0');
}

const params = { SUBS, CHANNELS, RATE, PAYLOAD, RAMP, SETTLE, DURATION, DRAIN, PING_EVERY, WS_URL, SETUP_P99_MS,
  DELIVERY_P99_MS, COMMAND_P99_MS, deliveries_per_s: (RATE * SUBS) / CHANNELS };

export const options = {
  summaryTrendStats,
  scenarios: steadyScenarios({ SUBS, RATE, RAMP, SETTLE, DURATION, DRAIN, CONNECT_TIMEOUT }),
  thresholds: {
    ...steadyThresholds({ SUBS, RATE, DURATION }),
    wsg_command_rtt: [`p(99)<${COMMAND_P99_MS}`],
    wsg_commands: ['count>0'],
    wsg_command_errors: ['count==0'],
  },
};

export function setup() {
  return runSetup();
}

const timeline = { kind: 'soak', clients: SUBS, channels: CHANNELS, RAMP, SETTLE, DURATION, DRAIN, CONNECT_TIMEOUT };

export async function subscriber(data) {
  // Spread the pings: each subscriber starts its period at its own dial.
  await runSubscriber({ ...rampedSubscriber({ ...timeline, run: data.run }), pingEveryMs: PING_EVERY * 1000 });
}

export function publisher(data) {
  const i = exec.scenario.iterationInTest;
  publish(runChannel('soak', data.run, CHANNELS, i), PAYLOAD, i);
}

export function handleSummary(data) {
  return summary('soak', data, params, (d) => ({
    deliveries_per_s_measured: (d.metrics.wsg_deliveries ? d.metrics.wsg_deliveries.values.count : 0) / DURATION,
  }));
}
