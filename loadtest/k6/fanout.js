// fanout: SUBS subscribers spread over CHANNELS channels; publishers post
// RATE stamped publications per second through the backend API (round
// robin over the channels) for DURATION. Every subscriber checks each
// publication's offset (wsg_lost, wsg_duplicated) and records the delivery
// latency from the publisher's stamp (wsg_delivery_latency); at the end it
// compares its position with the channel's, so a missing tail counts as
// lost too. Deliveries per second = RATE x SUBS / CHANNELS.
//
//   k6 run -e WS_URL=ws://127.0.0.1:8080/ws -e API_URL=http://127.0.0.1:8081 \
//     -e API_KEY=... -e TOKEN=... -e SUBS=200 -e RATE=20 loadtest/k6/fanout.js
//
// Timeline: subscribers connect over RAMP, SETTLE later publishing starts
// and lasts DURATION; subscribers then wait up to DRAIN for the last
// offsets.
import exec from 'k6/execution';
import { int, seconds, WS_URL, SETUP_P99_MS, DELIVERY_P99_MS } from './lib/env.js';
import { summaryTrendStats } from './lib/metrics.js';
import { steadyScenarios, steadyThresholds } from './lib/steady.js';
import { runSubscriber, publish, runSetup, runChannel, rampedSubscriber } from './lib/clients.js';
import { summary } from './lib/summary.js';

const SUBS = int('SUBS', 200);
const CHANNELS = int('CHANNELS', 4);
const RATE = int('RATE', 20); // publications per second, all channels together
const PAYLOAD = int('PAYLOAD', 100); // bytes of publication data
const RAMP = seconds('RAMP', 10);
const SETTLE = seconds('SETTLE', 2);
const DURATION = seconds('DURATION', 30);
const DRAIN = seconds('DRAIN', 5);
const CONNECT_TIMEOUT = seconds('CONNECT_TIMEOUT', 10);
if (SUBS < 1 || CHANNELS < 1 || CHANNELS > SUBS || RATE < 1) throw new Error('need SUBS >= CHANNELS >= 1 and RATE >= 1');

const params = { SUBS, CHANNELS, RATE, PAYLOAD, RAMP, SETTLE, DURATION, DRAIN, WS_URL, SETUP_P99_MS, DELIVERY_P99_MS,
  deliveries_per_s: (RATE * SUBS) / CHANNELS };

export const options = {
  summaryTrendStats,
  scenarios: steadyScenarios({ SUBS, RATE, RAMP, SETTLE, DURATION, DRAIN, CONNECT_TIMEOUT }),
  thresholds: {
    ...steadyThresholds({ SUBS, RATE, DURATION }),
  },
};

export function setup() {
  return runSetup();
}

const timeline = { kind: 'fanout', clients: SUBS, channels: CHANNELS, RAMP, SETTLE, DURATION, DRAIN, CONNECT_TIMEOUT };

export async function subscriber(data) {
  await runSubscriber(rampedSubscriber({ ...timeline, run: data.run }));
}

export function publisher(data) {
  const i = exec.scenario.iterationInTest;
  publish(runChannel('fanout', data.run, CHANNELS, i), PAYLOAD, i);
}

export function handleSummary(data) {
  return summary('fanout', data, params, (d) => {
    const del = d.metrics.wsg_deliveries ? d.metrics.wsg_deliveries.values.count : 0;
    const pubs = d.metrics.wsg_publishes ? d.metrics.wsg_publishes.values.count : 0;
    return {
      deliveries_per_s_measured: del / DURATION,
      expected_deliveries: (pubs * SUBS) / CHANNELS,
    };
  });
}
