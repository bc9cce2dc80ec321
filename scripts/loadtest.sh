#!/usr/bin/env bash
# loadtest.sh is `go run ./loadtest/run` (make loadtest, make capacity-smoke), kept for the
# command lines that name it: scripts/loadtest.sh [smoke|full] [any loadtest/run flag].
# Its old environment knobs are flags now (ports come from the kernel); one that is set stops it, rather than being ignored.
for v in SCENARIOS K6 RESULTS LT_PORT_BASE REDIS_PORT_BASE DRAIN_WINDOW LB_MAXCONN CONNECT_POINTS FANOUT_SUBS FANOUT_RATE WSBENCH_CONNS WSBENCH_RATES STORM_CLIENTS SOAK_DURATION SKIP_BUILD QUIET_LOAD QUIET_MAX_S QUIET_EVERY_S; do [ -z "${!v:-}" ] || { echo "$0: $v is a flag of loadtest/run now (go run ./loadtest/run -help)" >&2; exit 2; }; done
mode=${1:-full}; [ $# -eq 0 ] || shift
cd "$(dirname "$0")/.." && exec go run ./loadtest/run -mode "$mode" "$@"
