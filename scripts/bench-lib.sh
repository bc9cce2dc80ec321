# shellcheck shell=bash
# bench-lib.sh is sourced by idle.sh and fanout-sweep.sh. It builds
# bin/wsgateway and bin/wsbench (without -race: the numbers are for the real
# binary) and starts one --dev gateway on its own ports, stopping that PID,
# and nothing else, when the calling script exits.
#
# Environment: BENCH_PORT_BASE (default 28080: client port, +1 API, +10000
# admin), GATEWAY_ARGS (extra gateway flags), SKIP_BUILD=1 to use the binaries
# already in bin/.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/bin
PORT=${BENCH_PORT_BASE:-28080}
CLIENT_ADDR=127.0.0.1:$PORT
API_ADDR=127.0.0.1:$((PORT + 1))
ADMIN_ADDR=127.0.0.1:$((PORT + 10000))
GATEWAY_PID=
GATEWAY_LOG=

build_bench() {
	if [ "${SKIP_BUILD:-0}" != 1 ]; then
		(cd "$ROOT" && go build -o "$BIN/wsgateway" ./service/cmd/wsgateway && go build -o "$BIN/wsbench" ./service/cmd/wsbench)
	fi
}

# raise_nofile sets the soft open-file limit to the hard one; the gateway and
# wsbench inherit it (Go would raise its own soft limit too, but a shell
# limit below the hard one is reported here, once).
raise_nofile() {
	local hard
	hard=$(ulimit -Hn)
	ulimit -n "$hard" 2>/dev/null || echo "bench: cannot raise ulimit -n to $hard" >&2
	echo "bench: open files limit $(ulimit -n)" >&2
}

stop_gateway() {
	if [ -n "$GATEWAY_PID" ] && kill -0 "$GATEWAY_PID" 2>/dev/null; then
		kill "$GATEWAY_PID" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$GATEWAY_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$GATEWAY_PID" 2>/dev/null || true
	fi
	GATEWAY_PID=
}

# start_gateway runs the gateway and waits (at most 10 s) for /readyz.
start_gateway() {
	GATEWAY_LOG=$(mktemp -t wsgateway-bench.XXXXXX.log)
	# shellcheck disable=SC2086 # GATEWAY_ARGS is a list of flags
	"$BIN/wsgateway" --dev --listen "$CLIENT_ADDR" --api-listen "$API_ADDR" --admin-listen "$ADMIN_ADDR" \
		--drain-delay 0s --drain-window 0s --log-level warn ${GATEWAY_ARGS:-} >"$GATEWAY_LOG" 2>&1 &
	GATEWAY_PID=$!
	trap stop_gateway EXIT
	trap 'stop_gateway; exit 130' INT TERM
	for _ in $(seq 100); do
		if curl -fsS "http://$ADMIN_ADDR/readyz" >/dev/null 2>&1; then
			echo "bench: gateway pid $GATEWAY_PID on $CLIENT_ADDR (log $GATEWAY_LOG)" >&2
			return 0
		fi
		kill -0 "$GATEWAY_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: gateway did not become ready; its log:" >&2
	cat "$GATEWAY_LOG" >&2
	exit 1
}

# wsbench runs the tool against the gateway; extra arguments are its flags.
wsbench() {
	"$BIN/wsbench" -url "ws://$CLIENT_ADDR/ws" -api "http://$API_ADDR" -server-pid "$GATEWAY_PID" "$@"
}
