#!/usr/bin/env bash
# idle.sh measures idle connections: it starts a --dev gateway, opens CONNS
# connections (default 19900: the open-file limit here is 20000 per process,
# and the gateway needs its own few), holds them, and prints wsbench's JSON
# line: setup time percentiles, connect rate and the gateway's RSS per
# connection. Usage: scripts/idle.sh [extra wsbench flags...]
# Environment: CONNS, HOLD (default 5s), plus bench-lib.sh's.
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

CONNS=${CONNS:-19900}
raise_nofile
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((CONNS + 50)) ]; then
	echo "idle.sh: ulimit -n $(ulimit -n) is too low for $CONNS connections (+50 spare)" >&2
	exit 1
fi
build_bench
start_gateway
wsbench -scenario idle -conns "$CONNS" -hold "${HOLD:-5s}" -timeout 10m "$@"
