// Unit checks of the scenarios' helpers, run by k6 itself (no server
// needed): k6 run loadtest/k6/lib/selftest.js. loadtest/k6_test.go runs it
// in make test. Every check must hold (thresholds on checks and on the
// number of cases, so an empty run fails too).
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { Stream, backoffMs } from './wsg.js';
import { parseSeconds, dur } from './env.js';
import { failedThresholds, summary } from './summary.js';

const cases = new Counter('selftest_cases');

export const options = {
  vus: 1,
  iterations: 1,
  thresholds: { checks: ['rate==1'], selftest_cases: ['count>=6'] },
};

function t(name, fn) {
  cases.add(1);
  let ok = false;
  let detail = '';
  try {
    ok = fn();
  } catch (e) {
    detail = String(e);
  }
  if (!ok) console.error(`selftest: ${name} failed ${detail}`);
  check(null, { [name]: () => ok });
}

export default function () {
  t('stream: in order, repeat, gap, epoch', () => {
    const s = new Stream('load:x');
    if (s.known()) return false;
    s.position(5, 'E');
    const got = [s.accept(6, 'E'), s.accept(6, 'E'), s.accept(5, 'E'), s.accept(9, 'E')];
    const missing = s.missing;
    const ep = s.accept(1, 'F');
    return (
      JSON.stringify(got) === JSON.stringify(['ok', 'dup', 'dup', 'gap']) &&
      missing === 2 && ep === 'epoch' && s.offset === 1 && s.epoch === 'F'
    );
  });

  t('stream: subscribe recovers from the recorded position only', () => {
    const s = new Stream('load:y');
    const first = s.subscribeCommand();
    s.position(41, 'E');
    const again = s.subscribeCommand();
    return (
      first.recover === undefined && first.channel === 'load:y' &&
      again.recover === true && again.offset === 41 && again.epoch === 'E'
    );
  });

  t('durations', () =>
    parseSeconds('30s') === 30 && parseSeconds('1m30s') === 90 && parseSeconds('500ms') === 0.5 &&
    parseSeconds('2h') === 7200 && parseSeconds('7') === 7 && isNaN(parseSeconds('3x')) &&
    isNaN(parseSeconds('')) && dur(1.5) === '1500ms');

  t('backoff: full jitter under min(cap, base*2^n)', () => {
    for (let n = 0; n < 40; n++) {
      for (let i = 0; i < 50; i++) {
        const d = backoffMs(n, 250, 10000);
        if (d < 0 || d > Math.min(10000, 250 * Math.pow(2, n))) return false;
      }
    }
    return true;
  });

  const data = {
    state: { testRunDurationMs: 1000 },
    metrics: {
      wsg_lost: { type: 'counter', contains: 'default', values: { count: 3, rate: 3 }, thresholds: { 'count==0': { ok: false } } },
      wsg_setup_time: { type: 'trend', contains: 'time', values: { 'p(99)': 12, count: 5 }, thresholds: { 'p(99)<50': { ok: true } } },
    },
  };
  t('failed thresholds', () => JSON.stringify(failedThresholds(data)) === JSON.stringify(['wsg_lost: count==0']));

  t('summary: full data plus the wsgateway key, and a text report', () => {
    const out = summary('selftest', data, { A: 1 }, () => ({ x: 2 }));
    const files = Object.keys(out).filter((k) => k !== 'stdout');
    if (files.length !== 1 || !files[0].endsWith('/selftest.json')) return false;
    const j = JSON.parse(out[files[0]]);
    return (
      j.metrics.wsg_lost.values.count === 3 && j.state.testRunDurationMs === 1000 &&
      j.wsgateway.passed === false && j.wsgateway.derived.x === 2 && j.wsgateway.tool === 'k6' &&
      out.stdout.includes('FAILED wsg_lost: count==0')
    );
  });
}

// The default end-of-test summary (this script writes no file).
export function handleSummary(data) {
  const c = data.metrics.checks ? data.metrics.checks.values : { passes: 0, fails: 0 };
  return { stdout: `selftest: ${c.passes} checks passed, ${c.fails} failed\n` };
}
