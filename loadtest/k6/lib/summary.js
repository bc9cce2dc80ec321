// handleSummary for every scenario. It writes the full k6 summary `data`
// object as JSON to ${SUMMARY_DIR}/<name>.json (the input of the capacity
// report, loadtest/report) with one more top-level key, "wsgateway":
//   scenario, tool ("k6"), params (the scenario's parameters),
//   passed (every threshold held), failed_thresholds ["metric: expr", ...],
//   derived (figures computed from several metrics, e.g. the storm length)
// and prints a short text summary on stdout (remote jslib imports cannot be
// fetched here, so k6's textSummary is not used).

import { SUMMARY_DIR, str } from './env.js';

function fmt(v, isTime) {
  if (typeof v !== 'number') return String(v);
  if (isTime) return v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v.toFixed(v < 10 ? 2 : 1)}ms`;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

export function failedThresholds(data) {
  const out = [];
  for (const [name, metric] of Object.entries(data.metrics || {})) {
    for (const [expr, t] of Object.entries(metric.thresholds || {})) {
      if (!t.ok) out.push(`${name}: ${expr}`);
    }
  }
  return out.sort();
}

function metricLine(name, metric) {
  const v = metric.values || {};
  const isTime = metric.contains === 'time';
  let parts;
  if (metric.type === 'trend') {
    parts = ['count', 'p(50)', 'p(95)', 'p(99)', 'max'].filter((k) => k in v).map((k) => `${k}=${k === 'count' ? v[k] : fmt(v[k], isTime)}`);
  } else if (metric.type === 'counter') {
    parts = [`count=${fmt(v.count)}`, `rate=${fmt(v.rate)}/s`];
  } else if (metric.type === 'rate') {
    parts = [`rate=${fmt(v.rate * 100)}%`, `passes=${v.passes}`, `fails=${v.fails}`];
  } else {
    parts = Object.entries(v).map(([k, x]) => `${k}=${fmt(x)}`);
  }
  const th = Object.entries(metric.thresholds || {}).map(([expr, t]) => `${t.ok ? 'ok' : 'FAILED'} ${expr}`);
  return `  ${name.padEnd(36)} ${parts.join(' ')}${th.length ? `   [${th.join('; ')}]` : ''}`;
}

// summary builds handleSummary's result. name: the file name (SUMMARY_NAME
// overrides it, e.g. reconnect-storm-kill); params: the scenario's
// parameters; derive(data): extra figures (optional).
export function summary(name, data, params, derive) {
  const file = str('SUMMARY_NAME', name);
  const failed = failedThresholds(data);
  const derived = derive ? derive(data) : {};
  const out = Object.assign({}, data, {
    wsgateway: { scenario: file, tool: 'k6', params, passed: failed.length === 0, failed_thresholds: failed, derived },
  });
  const lines = [`== ${file} (k6): ${failed.length === 0 ? 'PASSED' : `FAILED ${failed.length} threshold(s)`}`];
  lines.push(`  run ${fmt((data.state && data.state.testRunDurationMs) / 1000)}s; params ${JSON.stringify(params)}`);
  const names = Object.keys(data.metrics || {})
    .filter((n) => n.startsWith('wsg_') || Object.keys(data.metrics[n].thresholds || {}).length > 0 || /^(ws_connecting|ws_sessions|http_req_failed|dropped_iterations)$/.test(n))
    .sort();
  for (const n of names) lines.push(metricLine(n, data.metrics[n]));
  for (const [k, v] of Object.entries(derived)) lines.push(`  ${k} = ${typeof v === 'number' ? fmt(v) : JSON.stringify(v)}`);
  for (const f of failed) lines.push(`  FAILED ${f}`);
  lines.push(`  summary: ${SUMMARY_DIR}/${file}.json`);
  return {
    [`${SUMMARY_DIR}/${file}.json`]: JSON.stringify(out, null, 2),
    stdout: lines.join('\n') + '\n',
  };
}
