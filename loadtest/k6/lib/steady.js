// steady: the k6 options shared by the scenarios that hold subscribers
// while publishers post at a constant rate (fanout, soak): one subscriber
// VU each for the whole run, a constant-arrival-rate publisher, and the
// delivery objectives. Keeping them in one place keeps the two scenarios'
// objectives from drifting apart.
import { dur, SETUP_P99_MS, DELIVERY_P99_MS } from './env.js';

// steadyScenarios returns the subscriber and publisher scenarios for s:
// {SUBS, RATE, RAMP, SETTLE, DURATION, DRAIN, CONNECT_TIMEOUT} (seconds).
export function steadyScenarios(s) {
  return {
    subscribers: {
      executor: 'per-vu-iterations',
      exec: 'subscriber',
      vus: s.SUBS,
      iterations: 1,
      maxDuration: dur(s.RAMP + s.SETTLE + s.DURATION + s.DRAIN + s.CONNECT_TIMEOUT + 10),
      gracefulStop: '5s',
    },
    publishers: {
      executor: 'constant-arrival-rate',
      exec: 'publisher',
      rate: s.RATE,
      timeUnit: '1s',
      duration: dur(s.DURATION),
      startTime: dur(s.RAMP + s.SETTLE),
      preAllocatedVUs: Math.max(2, Math.ceil(s.RATE / 20)),
      maxVUs: Math.max(10, s.RATE),
      gracefulStop: '5s',
    },
  };
}

// steadyThresholds returns the objectives every steady run must meet. Each
// p(99) is paired with a count, because a p(99) threshold passes when it
// has no samples at all.
export function steadyThresholds(s) {
  return {
    wsg_setup_time: [`p(99)<${SETUP_P99_MS}`],
    wsg_connects: [`count>=${s.SUBS}`],
    wsg_connect_errors: ['count==0'],
    wsg_subscribed: [`count>=${s.SUBS}`],
    wsg_delivery_latency: [`p(99)<${DELIVERY_P99_MS}`],
    wsg_deliveries: ['count>0'],
    wsg_lost: ['count==0'],
    wsg_duplicated: ['count==0'],
    wsg_epoch_changes: ['count==0'],
    wsg_not_drained: ['count==0'],
    wsg_unexpected_closes: ['count==0'],
    wsg_bad_lines: ['count==0'],
    wsg_publishes: [`count>=${Math.floor(0.9 * s.RATE * s.DURATION)}`],
    wsg_publish_errors: ['count==0'],
  };
}
