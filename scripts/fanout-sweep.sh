#!/usr/bin/env bash
# fanout-sweep.sh measures fan-out at several publication rates: it starts a
# --dev gateway and runs wsbench -scenario fanout once per rate with CONNS
# subscribers on one channel (5000 x 2..30 msg/s = 10k..150k deliveries/s),
# printing one JSON line per rate. Each run uses a fresh channel and fresh
# connections against the same gateway.
# Usage: scripts/fanout-sweep.sh [extra wsbench flags...]
# Environment: RATES (default "2 5 10 20 30"), CONNS (default 5000),
# DURATION (10s), WARMUP (2s), plus bench-lib.sh's.
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

CONNS=${CONNS:-5000}
raise_nofile
build_bench
start_gateway
for rate in ${RATES:-2 5 10 20 30}; do
	echo "fanout-sweep: $CONNS subscribers at $rate msg/s" >&2
	# A run cut short still prints its line (with "error"); go on to the next.
	wsbench -scenario fanout -conns "$CONNS" -rate "$rate" -duration "${DURATION:-10s}" \
		-warmup "${WARMUP:-2s}" -timeout 5m "$@" || true
	sleep 2 # let the gateway finish closing the last run's connections
done
