#!/usr/bin/env bash
# fanout-sweep.sh is `wsbench -suite fanout-sweep` (service/cmd/wsbench), kept for the
# command lines that name it: 5,000 subscribers at each of -rates (default
# "2 5 10 20 30") against a --dev gateway it starts, one JSON line per rate.
# Flags: -rates, -conns, -duration, -warmup, any other wsbench flag.
# Its old environment knobs are flags now; one that is set stops it, rather than being ignored.
for v in RATES CONNS DURATION WARMUP; do [ -z "${!v:-}" ] || { echo "$0: $v is a flag of wsbench -suite fanout-sweep now (go run ./service/cmd/wsbench -help)" >&2; exit 2; }; done
cd "$(dirname "$0")/.." && exec go run ./service/cmd/wsbench -suite fanout-sweep "$@"
