# shellcheck shell=bash
# bench-lib.sh is sourced by loadtest.sh (the benchmarks, idle.sh,
# fanout-sweep.sh and cluster-bench.sh, are wsbench -suite now). It builds
# bin/wsgateway and bin/wsbench (without -race: the numbers are for the real
# binary) and starts a redis-server of its own (start_redis), stopping the
# PIDs it started, and nothing else, when the calling script exits.
# wait_quiet waits for the machine to be idle before a measurement.
#
# Environment: SKIP_BUILD=1 to use the binaries already in bin/; for
# wait_quiet: QUIET_LOAD (default 0.8), QUIET_MAX_S (600), QUIET_EVERY_S (15).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/bin
BENCH_PIDS=()    # processes started by start_redis and the sourcing script
BENCH_TMPDIRS=() # removed at exit
BENCH_LOAD=      # 1-minute load average when wait_quiet returned
BENCH_QUIET=     # true if it was below QUIET_LOAD then, false if wait_quiet gave up

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

# stop_pid stops one process this script started: SIGTERM, then SIGKILL
# after 5 s.
stop_pid() {
	local pid=$1
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
}

# bench_cleanup stops every process started here, newest first, and removes
# the temporary directories. It is the EXIT trap.
bench_cleanup() {
	local i
	for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${BENCH_PIDS[i]}"
	done
	BENCH_PIDS=()
	for i in "${BENCH_TMPDIRS[@]}"; do
		rm -rf "$i"
	done
	BENCH_TMPDIRS=()
}

bench_traps() {
	trap bench_cleanup EXIT
	trap 'bench_cleanup; exit 130' INT TERM
}

# forget_pid drops a PID that has been waited for from BENCH_PIDS, so that
# the cleanup never signals a number the kernel may have reused.
forget_pid() {
	local keep=() p
	for p in "${BENCH_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	BENCH_PIDS=("${keep[@]}")
}

# port_free reports whether nothing listens on 127.0.0.1:PORT (TCP).
port_free() {
	if command -v ss >/dev/null 2>&1; then
		[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
	else
		! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# wait_ready waits (at most 10 s) for a gateway's /readyz: NAME PID ADMIN LOG.
wait_ready() {
	local name=$1 pid=$2 admin=$3 log=$4
	for _ in $(seq 100); do
		if curl -fsS "http://$admin/readyz" >/dev/null 2>&1; then
			echo "bench: gateway $name pid $pid ready (admin $admin, log $log)" >&2
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: gateway $name did not become ready; its log:" >&2
	cat "$log" >&2
	exit 1
}

# start_redis runs a redis-server of its own (no persistence, its --dir a
# fresh temporary directory) on the first free port from $1 (default 26400),
# trying at most 20 ports, and sets REDIS_PORT, REDIS_PID and REDIS_DIR.
start_redis() {
	local port=${1:-26400} tries dir pid
	command -v redis-server >/dev/null || { echo "bench: redis-server not found (scripts/deps.sh installs it)" >&2; exit 1; }
	dir=$(mktemp -d -t wsgateway-bench-redis.XXXXXX)
	BENCH_TMPDIRS+=("$dir")
	bench_traps
	for ((tries = 0; tries < 20; tries++, port++)); do
		port_free "$port" || continue
		redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
			--logfile "$dir/redis.log" --daemonize no &
		pid=$!
		BENCH_PIDS+=("$pid")
		for _ in $(seq 50); do
			if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
				# shellcheck disable=SC2034 # for the sourcing script
				REDIS_PORT=$port REDIS_PID=$pid REDIS_DIR=$dir
				echo "bench: redis-server pid $pid on 127.0.0.1:$port (dir $dir)" >&2
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "$pid" # lost a race for the port, or too slow: next port
		forget_pid "$pid"
	done
	echo "bench: could not start redis-server; its log:" >&2
	cat "$dir/redis.log" >&2 || true
	exit 1
}

# wait_quiet waits until the machine is idle: the 1-minute load average in
# /proc/loadavg below QUIET_LOAD (0.8), checked every QUIET_EVERY_S (15 s)
# for at most QUIET_MAX_S (600 s). Other work on the machine takes CPU from
# the gateway and the load tool, which share its cores. It never fails: when
# the machine stays busy it says so and returns, with BENCH_QUIET=false.
# BENCH_LOAD is the load average the run starts at.
wait_quiet() {
	local limit=${QUIET_LOAD:-0.8} max=${QUIET_MAX_S:-600} every=${QUIET_EVERY_S:-15} start=$SECONDS load
	while :; do
		read -r load _ </proc/loadavg
		if awk -v l="$load" -v t="$limit" 'BEGIN { exit !(l < t) }'; then
			# shellcheck disable=SC2034 # for the sourcing script
			BENCH_LOAD=$load BENCH_QUIET=true
			echo "bench: load average $load < $limit after $((SECONDS - start)) s of waiting; starting" >&2
			return 0
		fi
		if ((SECONDS - start >= max)); then
			# shellcheck disable=SC2034 # for the sourcing script
			BENCH_LOAD=$load BENCH_QUIET=false
			echo "bench: WARNING: load average still $load (>= $limit) after ${max} s; running anyway, figures may be disturbed" >&2
			return 0
		fi
		echo "bench: load average $load >= $limit; waiting ${every} s" >&2
		sleep "$every"
	done
}
