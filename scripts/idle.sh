#!/usr/bin/env bash
# idle.sh is `wsbench -suite idle` (service/cmd/wsbench), kept for the
# command lines that name it: 19,900 idle connections against a --dev
# gateway it starts. Flags: -conns, -hold, any other wsbench flag.
# Its old environment knobs are flags now; one that is set stops it, rather than being ignored.
for v in CONNS HOLD; do [ -z "${!v:-}" ] || { echo "$0: $v is a flag of wsbench -suite idle now (go run ./service/cmd/wsbench -help)" >&2; exit 2; }; done
cd "$(dirname "$0")/.." && exec go run ./service/cmd/wsbench -suite idle "$@"
