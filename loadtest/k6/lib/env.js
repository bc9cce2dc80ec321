// Parameters come from the environment (k6 run -e NAME=value, or the
// process environment). Each reader fails the run at init, with the
// variable's name, when a value does not parse: a typo must not silently
// become a default.

function raw(name) {
  const v = __ENV[name];
  return v === undefined || v === '' ? undefined : v;
}

export function str(name, def) {
  const v = raw(name);
  return v === undefined ? def : v;
}

export function int(name, def) {
  const v = raw(name);
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v)) throw new Error(`${name} must be an integer, got "${v}"`);
  return parseInt(v, 10);
}

export function num(name, def) {
  const v = raw(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!isFinite(n)) throw new Error(`${name} must be a number, got "${v}"`);
  return n;
}

export function bool(name, def) {
  const v = raw(name);
  if (v === undefined) return def;
  if (/^(1|true|yes)$/i.test(v)) return true;
  if (/^(0|false|no)$/i.test(v)) return false;
  throw new Error(`${name} must be true or false, got "${v}"`);
}

const units = { ms: 0.001, s: 1, m: 60, h: 3600 };

// parseSeconds reads "500ms", "30s", "2m", "1h", "1m30s" or a bare number of
// seconds.
export function parseSeconds(v) {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let used = 0;
  let m;
  while ((m = re.exec(v)) !== null) {
    total += Number(m[1]) * units[m[2]];
    used += m[0].length;
  }
  if (used !== v.length || used === 0) return NaN;
  return total;
}

// seconds reads a duration (see parseSeconds) and returns seconds.
export function seconds(name, def) {
  const v = raw(name);
  if (v === undefined) return def;
  const s = parseSeconds(v);
  if (!isFinite(s) || s < 0) throw new Error(`${name} must be a duration such as 30s, 2m or 1h, got "${v}"`);
  return s;
}

// dur formats seconds for k6 options ("12.5s" -> "12500ms").
export function dur(s) {
  return `${Math.round(s * 1000)}ms`;
}

// The endpoints and credentials every scenario uses.
export const WS_URL = str('WS_URL', 'ws://127.0.0.1:8080/ws');
export const API_URL = str('API_URL', 'http://127.0.0.1:8081').replace(/\/+$/, '');
export const API_KEY = str('API_KEY', ''); // empty: a --dev gateway
export const TOKEN = str('TOKEN', ''); // client JWT; empty: a --dev gateway
// Channels are CHANNEL_PREFIX + scenario + run id + index; the token must
// allow subscribing to them (wsgateway token --subscribe 'load:*').
export const CHANNEL_PREFIX = str('CHANNEL_PREFIX', 'load:');
export const SUMMARY_DIR = str('SUMMARY_DIR', 'loadtest/results').replace(/\/+$/, '');
// The service-level objectives the thresholds enforce.
export const SETUP_P99_MS = num('SETUP_P99_MS', 50);
export const DELIVERY_P99_MS = num('DELIVERY_P99_MS', 100);
