#!/usr/bin/env bash
# cluster-bench.sh is `wsbench -suite cluster` (service/cmd/wsbench), kept for the
# command lines that name it: a redis-server of its own, nodes A and B on
# it (and C with the in-process broker), the parts of -parts or the points of
# -points, each after waiting for a quiet machine, each printing wsbench's
# line and a {"commandstats": ...} summary. Flags: -parts, -points,
# -latency-points, -rates, -single-rates, -periodic, -periodic-conns,
# -pprof-seconds, -quiet-load, any other wsbench flag.
# Its old environment knobs are flags now; one that is set stops it, rather than being ignored.
for v in PARTS POINTS RATES LATENCY_POINTS SINGLE_RATES CONNS PERIODIC_CONNS PERIODIC_S DURATION WARMUP PPROF_SECONDS PROFILE_DIR QUIET_LOAD QUIET_MAX_S QUIET_EVERY_S GATEWAY_ARGS; do [ -z "${!v:-}" ] || { echo "$0: $v is a flag of wsbench -suite cluster now (go run ./service/cmd/wsbench -help)" >&2; exit 2; }; done
cd "$(dirname "$0")/.." && exec go run ./service/cmd/wsbench -suite cluster "$@"
