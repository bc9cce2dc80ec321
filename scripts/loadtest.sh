#!/usr/bin/env bash
# loadtest.sh runs the capacity tests against a real cluster on 127.0.0.1:
# a redis-server of its own (free port, no persistence), three gateway nodes
# in cluster mode (--redis-url, JWT auth, API key) and Debian's HAProxy in
# front of them (loadtest/haproxy.cfg: WebSocket tunnels, leastconn, health
# check on each node's /readyz). Clients and publishers go through HAProxy
# only. It writes loadtest/results/ and stops only the processes it started.
#
# Usage: scripts/loadtest.sh [smoke|full]     (make capacity-smoke, make loadtest)
#   smoke  the CI capacity gate, about 2 minutes and bounded: connect-storm
#          (1,000 connections), fanout (200 subscribers, 1,000 deliveries/s)
#          and a reconnect storm (a node drained under 150 clients), all
#          with the objectives' thresholds. Exits non-zero when any
#          threshold is missed or a message is lost.
#   full   every scenario at larger scale (about 12 minutes): connect-storm
#          at CONNECT_POINTS connections, fanout with k6, the heavy fan-out
#          points with wsbench (k6's ~0.2 ms of CPU per message would
#          measure k6, not the gateway), the reconnect storm with a drained
#          node and with a killed one, and a soak of SOAK_DURATION; then the
#          capacity report (go run ./loadtest/report) when that package
#          exists.
#
# Results, in RESULTS (default loadtest/results/):
#   <name>.json        k6's full summary data plus a "wsgateway" key (scenario,
#                      tool, params, passed, failed_thresholds, derived)
#   <name>.html        k6's offline HTML report (full mode)
#   <name>-nodes.csv   each node's connections, subscriptions, draining, RSS,
#                      goroutines and CPU seconds, sampled during the run
#   wsbench-fanout.jsonl  one wsbench JSON line per heavy fan-out point
#   manifest.json      what ran: which tool made which file, its parameters,
#                      its exit status, the cluster, the fault injected
#   logs/              k6 output and stderr, gateway, HAProxy and Redis logs
#
# Environment: SCENARIOS (the list to run, see the defaults below), K6 (the
# k6 binary, default .tools/k6-v1.8.1/k6 from make k6), RESULTS,
# LT_PORT_BASE (29100: HAProxy on BASE and BASE+1, node i on BASE+10i,
# +10i+1 API, +10i+2 admin), REDIS_PORT_BASE (26500), DRAIN_WINDOW (8s),
# CONNECT_POINTS, FANOUT_SUBS, FANOUT_RATE, WSBENCH_CONNS, WSBENCH_RATES,
# STORM_CLIENTS, SOAK_DURATION; plus bench-lib.sh's SKIP_BUILD.
set -euo pipefail
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

MODE=${1:-full}
case $MODE in
smoke) DEFAULT_SCENARIOS="connect-storm fanout reconnect-storm" ;;
full) DEFAULT_SCENARIOS="connect-storm fanout wsbench-fanout reconnect-storm reconnect-storm-kill soak" ;;
*)
	echo "usage: $0 [smoke|full]" >&2
	exit 2
	;;
esac
SCENARIOS=${SCENARIOS:-$DEFAULT_SCENARIOS}
K6_VERSION=v1.8.1
K6=${K6:-$ROOT/.tools/k6-$K6_VERSION/k6}
RESULTS=${RESULTS:-$ROOT/loadtest/results}
LOGDIR=$RESULTS/logs
DRAIN_WINDOW=${DRAIN_WINDOW:-8s}
RUN_ID=$(date +%s)
START_UNIX=$RUN_ID
SECRET=loadtest-$RUN_ID-$RANDOM$RANDOM$RANDOM
API_KEY=loadtest-key-$RANDOM$RANDOM$RANDOM
START=$SECONDS

say() { echo "loadtest: $*" >&2; }
die() {
	say "$*"
	exit 1
}

# --- what this needs ---------------------------------------------------------
[ -x "$K6" ] || die "k6 not found at $K6: run 'make k6' (or make loadtest / make capacity-smoke, which do)"
"$K6" version | grep -q "$K6_VERSION" || die "$K6 is not k6 $K6_VERSION: $("$K6" version)"
for c in haproxy redis-server redis-cli curl timeout; do
	command -v "$c" >/dev/null || die "$c not found: run 'make deps' (scripts/deps.sh installs haproxy and redis-server)"
done

raise_nofile
build_bench
# Only what a previous run wrote goes; RESULTS may be a directory of the user's.
mkdir -p "$RESULTS"
rm -rf "$LOGDIR"
rm -f "$RESULTS"/*.json "$RESULTS"/*.html "$RESULTS"/*-nodes.csv "$RESULTS"/wsbench-fanout.jsonl
mkdir -p "$LOGDIR"
export K6_NO_USAGE_REPORT=true

# --- ports ---------------------------------------------------------------------
ws_port() { echo $((BASE + 10 * $1)); }
api_port() { echo $((BASE + 10 * $1 + 1)); }
admin_port() { echo $((BASE + 10 * $1 + 2)); }

find_base() {
	local base=${LT_PORT_BASE:-29100} try i ok
	for ((try = 0; try < 10; try++, base += 100)); do
		ok=1
		BASE=$base
		for p in "$base" $((base + 1)); do port_free "$p" || ok=0; done
		for i in 1 2 3; do
			for p in "$(ws_port $i)" "$(api_port $i)" "$(admin_port $i)"; do port_free "$p" || ok=0; done
		done
		[ $ok = 1 ] && return 0
	done
	die "no free ports from ${LT_PORT_BASE:-29100} (tried 10 bases)"
}
find_base
LB_WS=127.0.0.1:$BASE
LB_API=127.0.0.1:$((BASE + 1))

# --- the cluster ---------------------------------------------------------------
start_redis "${REDIS_PORT_BASE:-26500}"

declare -A NODE_PIDS=()

# start_cluster_node I: node lt-nodeI on its ports, on our Redis.
start_cluster_node() {
	local i=$1 log=$LOGDIR/node$1.log pid
	"$BIN/wsgateway" --node-id "lt-node$i" --zone "lt-zone-$i" \
		--listen "127.0.0.1:$(ws_port "$i")" --api-listen "127.0.0.1:$(api_port "$i")" \
		--admin-listen "127.0.0.1:$(admin_port "$i")" \
		--redis-url "redis://127.0.0.1:$REDIS_PORT" --jwt-secret "$SECRET" --api-key "$API_KEY" \
		--trusted-proxies 127.0.0.1 --drain-delay 2s --drain-window "$DRAIN_WINDOW" \
		--log-level warn >>"$log" 2>&1 &
	pid=$!
	BENCH_PIDS+=("$pid")
	NODE_PIDS[$i]=$pid
	bench_traps
	wait_ready "lt-node$i" "$pid" "127.0.0.1:$(admin_port "$i")" "$log"
}

for i in 1 2 3; do start_cluster_node "$i"; done

export LB_WS LB_API LB_MAXCONN=${LB_MAXCONN:-9000}
for i in 1 2 3; do
	export "NODE${i}_WS=127.0.0.1:$(ws_port "$i")" "NODE${i}_API=127.0.0.1:$(api_port "$i")" "NODE${i}_ADMIN=$(admin_port "$i")"
done
HAPROXY_CFG=$ROOT/loadtest/haproxy.cfg
haproxy -c -q -f "$HAPROXY_CFG" || die "haproxy -c -f $HAPROXY_CFG failed"
haproxy -db -f "$HAPROXY_CFG" >"$LOGDIR/haproxy.log" 2>&1 &
HAPROXY_PID=$!
BENCH_PIDS+=("$HAPROXY_PID")
bench_traps

api() { curl -fsS -m 5 -H "Authorization: apikey $API_KEY" "http://$LB_API$1"; }

lb_ready=0
for _ in $(seq 100); do
	if [ "$(api /api/v1/nodes 2>/dev/null | grep -o '"node":"lt-node' | wc -l)" -ge 3 ]; then
		lb_ready=1
		break
	fi
	kill -0 "$HAPROXY_PID" 2>/dev/null || break
	sleep 0.1
done
[ $lb_ready = 1 ] || {
	cat "$LOGDIR/haproxy.log" >&2
	die "HAProxy on $LB_API did not route to three nodes within 10 s"
}
say "3 nodes on redis 127.0.0.1:$REDIS_PORT behind HAProxy $(haproxy -v | head -1 | awk '{print $3}'): clients ws://$LB_WS/ws, API http://$LB_API"

TOKEN=$("$BIN/wsgateway" token --sub loadtest --secret "$SECRET" --subscribe 'load:*' --publish 'load:*' --ttl 4h)

# --- sampling the nodes ----------------------------------------------------------
POLL_PID=

# poll_nodes FILE EVERY MAX_S samples every node's /metrics into FILE (CSV)
# every EVERY seconds, in the background, for at most MAX_S seconds.
poll_nodes() {
	local file=$1 every=$2 max=$3
	echo 'unix_s,node,connections,subscriptions,draining,rss_bytes,goroutines,cpu_seconds' >"$file"
	(
		end=$((SECONDS + max))
		while ((SECONDS < end)); do
			for i in 1 2 3; do
				t=$(date +%s.%3N)
				if m=$(curl -fsS -m 1 "http://127.0.0.1:$(admin_port "$i")/metrics" 2>/dev/null); then
					awk -v t="$t" -v n="lt-node$i" '
						$1 == "wsgateway_connections" { c = $2 }
						$1 == "wsgateway_subscriptions" { s = $2 }
						$1 == "wsgateway_draining" { d = $2 }
						$1 == "process_resident_memory_bytes" { r = $2 }
						$1 == "go_goroutines" { g = $2 }
						$1 == "process_cpu_seconds_total" { cpu = $2 }
						END { printf "%s,%s,%d,%d,%d,%.0f,%d,%s\n", t, n, c, s, d, r, g, cpu }' <<<"$m"
				else
					echo "$t,lt-node$i,,,,,,"
				fi
			done >>"$file"
			sleep "$every"
		done
	) &
	POLL_PID=$!
	BENCH_PIDS+=("$POLL_PID")
}

stop_poll() {
	if [ -n "$POLL_PID" ]; then
		stop_pid "$POLL_PID"
		forget_pid "$POLL_PID"
		POLL_PID=
	fi
}

# connections_total prints the sum of wsgateway_connections over the nodes
# that answer.
connections_total() {
	local i sum=0 c
	for i in 1 2 3; do
		c=$(curl -fsS -m 1 "http://127.0.0.1:$(admin_port "$i")/metrics" 2>/dev/null |
			awk '$1 == "wsgateway_connections" { printf "%d", $2 }') || c=0
		sum=$((sum + ${c:-0}))
	done
	echo "$sum"
}

# --- running k6 ------------------------------------------------------------------
MANIFEST=()  # JSON objects, one per run
FAILED=()    # names of the runs that failed

k6_args() { # NAME: the arguments every scenario gets
	local name=$1
	printf '%s\n' run --quiet --no-color \
		-e "WS_URL=ws://$LB_WS/ws" -e "API_URL=http://$LB_API" -e "API_KEY=$API_KEY" -e "TOKEN=$TOKEN" \
		-e "SUMMARY_DIR=$RESULTS" -e "SUMMARY_NAME=$name" -e "RUN_ID=$RUN_ID-$name"
}

k6_env() { # NAME: dashboard export in full mode
	if [ "$MODE" = full ]; then
		echo "K6_WEB_DASHBOARD=true K6_WEB_DASHBOARD_PORT=-1 K6_WEB_DASHBOARD_EXPORT=$RESULTS/$1.html"
	fi
}

# json_params K=V... prints {"K":"V",...} (values as strings).
json_params() {
	local out='' kv
	for kv in "$@"; do out+="${out:+,}\"${kv%%=*}\":\"${kv#*=}\""; done
	echo "{$out}"
}

# record NAME SCENARIO TOOL FILE RC PARAMS-JSON [EXTRA-JSON-FIELDS]
record() {
	local extra=${7:-}
	MANIFEST+=("{\"name\":\"$1\",\"scenario\":\"$2\",\"tool\":\"$3\",\"file\":\"$4\",\"nodes_csv\":\"$1-nodes.csv\",\"exit\":$5,\"params\":$6${extra:+,$extra}}")
	if [ "$5" != 0 ]; then FAILED+=("$1"); fi
}

# run_k6 NAME SCRIPT LIMIT_S K=V...: one k6 run in the foreground, bounded
# by LIMIT_S; its summary goes to the terminal and to RESULTS.
run_k6() {
	local name=$1 script=$2 limit=$3 rc=0 kv
	shift 3
	local args=()
	mapfile -t args < <(k6_args "$name")
	for kv in "$@"; do args+=(-e "$kv"); done
	say "k6 $script as $name: $*"
	poll_nodes "$RESULTS/$name-nodes.csv" 1 "$limit"
	# shellcheck disable=SC2046 # k6_env is a list of VAR=value words
	env $(k6_env "$name") timeout --kill-after=15s "$limit" "$K6" "${args[@]}" "$ROOT/loadtest/k6/$script" \
		2>"$LOGDIR/$name.stderr" | tee "$LOGDIR/$name.log" || rc=${PIPESTATUS[0]}
	stop_poll
	if [ "$rc" != 0 ]; then
		say "$name: k6 exited $rc ($([ "$rc" = 99 ] && echo 'thresholds failed' || echo 'error')); its last messages:"
		tail -n 15 "$LOGDIR/$name.stderr" >&2 || true
	fi
	record "$name" "${script%.js}" k6 "$name.json" "$rc" "$(json_params "$@")"
}

# restart_node I: start node I again after a storm and wait until HAProxy
# sends it traffic again (rise 2 x inter 500 ms).
restart_node() {
	forget_pid "${NODE_PIDS[$1]}"
	start_cluster_node "$1"
	sleep 2
}

# storm NAME FAULT: the reconnect storm with node 2 drained (SIGTERM) or
# killed (SIGKILL) once every client is connected.
storm() {
	local name=$1 fault=$2 clients=$3 limit=$4 rc=0 victim=2 pid k6pid fault_at='' victim_exit='' n=0 i kv
	shift 4
	local args=()
	mapfile -t args < <(k6_args "$name")
	for kv in "FAULT=$fault" "CLIENTS=$clients" "$@"; do args+=(-e "$kv"); done
	say "k6 reconnect-storm.js as $name: node lt-node$victim will be ${fault}ed; CLIENTS=$clients $*"
	poll_nodes "$RESULTS/$name-nodes.csv" 0.5 "$limit"
	# shellcheck disable=SC2046 # k6_env is a list of VAR=value words
	env $(k6_env "$name") timeout --kill-after=15s "$limit" "$K6" "${args[@]}" "$ROOT/loadtest/k6/reconnect-storm.js" \
		>"$LOGDIR/$name.log" 2>"$LOGDIR/$name.stderr" &
	k6pid=$!
	BENCH_PIDS+=("$k6pid")
	# Wait (at most 60 s) until every client is connected, then 5 s more.
	for ((i = 0; i < 120; i++)); do
		n=$(connections_total)
		[ "$n" -ge "$clients" ] && break
		kill -0 "$k6pid" 2>/dev/null || break
		sleep 0.5
	done
	say "$name: $n of $clients clients connected"
	if kill -0 "$k6pid" 2>/dev/null; then
		sleep 5
		pid=${NODE_PIDS[$victim]}
		fault_at=$(date +%s.%3N)
		if [ "$fault" = drain ]; then
			say "$name: SIGTERM to lt-node$victim (pid $pid): drain-delay 2s, drain-window $DRAIN_WINDOW"
			kill -TERM "$pid"
		else
			say "$name: SIGKILL to lt-node$victim (pid $pid)"
			kill -KILL "$pid"
		fi
		# The node exits: 0 after a clean drain; killed, 137. Bounded by the
		# drain (2 s + the window) plus a margin.
		for ((i = 0; i < 600; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			say "$name: lt-node$victim still running 60 s after the $fault; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		victim_exit=0
		wait "$pid" 2>/dev/null || victim_exit=$?
		say "$name: lt-node$victim exited $victim_exit"
	fi
	wait "$k6pid" || rc=$?
	forget_pid "$k6pid"
	stop_poll
	cat "$LOGDIR/$name.log"
	if [ "$rc" != 0 ]; then
		say "$name: k6 exited $rc; its last messages:"
		tail -n 15 "$LOGDIR/$name.stderr" >&2 || true
	fi
	if [ "$fault" = drain ] && [ -n "$victim_exit" ] && [ "$victim_exit" != 0 ]; then
		say "$name: the drained node exited $victim_exit, not 0"
		rc=1
	fi
	record "$name" reconnect-storm k6 "$name.json" "$rc" "$(json_params "CLIENTS=$clients" "$@")" \
		"\"fault\":\"$fault\",\"fault_node\":\"lt-node$victim\",\"fault_at_unix\":${fault_at:-null},\"fault_node_exit\":${victim_exit:-null},\"drain_window\":\"$DRAIN_WINDOW\""
	if [ -n "$victim_exit" ]; then
		restart_node "$victim"
	else
		say "$name: k6 ended before the fault; lt-node$victim was not touched"
		[ "$rc" != 0 ] || FAILED+=("$name (no fault injected)")
	fi
}

# wsbench_fanout: the heavy fan-out points, one wsbench run per rate, all
# through HAProxy.
wsbench_fanout() {
	local conns=${WSBENCH_CONNS:-3000} rate rc=0 out=$RESULTS/wsbench-fanout.jsonl
	: >"$out"
	poll_nodes "$RESULTS/wsbench-fanout-nodes.csv" 1 900
	for rate in ${WSBENCH_RATES:-5 10 20 30}; do
		say "wsbench fanout: $conns subscribers, $rate publications/s ($((conns * rate)) deliveries/s)"
		if ! timeout --kill-after=15s 180 "$BIN/wsbench" -scenario fanout -url "ws://$LB_WS/ws" -api "http://$LB_API" \
			-api-key "$API_KEY" -token "$TOKEN" -conns "$conns" -rate "$rate" -duration 10s -warmup 2s \
			-channel "load:wsbench-$RUN_ID-$rate" -timeout 150s >>"$out" 2>>"$LOGDIR/wsbench.stderr"; then
			say "wsbench at $rate/s failed (see logs/wsbench.stderr)"
			rc=1
		fi
		tail -n 1 "$out" >&2
		sleep 2
	done
	stop_poll
	record wsbench-fanout fanout wsbench wsbench-fanout.jsonl "$rc" \
		"$(json_params "CONNS=$conns" "RATES=${WSBENCH_RATES:-5 10 20 30}" "DURATION=10s" "WARMUP=2s")"
}

# to_seconds 90s|3m|2h|45 prints whole seconds.
to_seconds() {
	case $1 in
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}

# --- the scenarios -----------------------------------------------------------------
if [ "$MODE" = full ]; then
	wait_quiet
else
	read -r BENCH_LOAD _ </proc/loadavg
	BENCH_QUIET=unknown
fi

for s in $SCENARIOS; do
	case $MODE:$s in
	smoke:connect-storm)
		run_k6 connect-storm connect-storm.js 90 CONNS=1000 CONNS_PER_VU=5 RAMP=10s HOLD=10s ;;
	full:connect-storm)
		read -ra points <<<"${CONNECT_POINTS:-1000 3000 6000}"
		for ((k = 0; k < ${#points[@]}; k++)); do
			n=${points[k]}
			name=connect-storm-$n
			((k == ${#points[@]} - 1)) && name=connect-storm # the largest point is the scenario's summary
			run_k6 "$name" connect-storm.js 180 "CONNS=$n" CONNS_PER_VU=10 RAMP=20s HOLD=15s
		done
		;;
	smoke:fanout)
		run_k6 fanout fanout.js 120 SUBS=200 CHANNELS=4 RATE=20 RAMP=5s SETTLE=2s DURATION=30s DRAIN=5s ;;
	full:fanout)
		run_k6 fanout fanout.js 240 "SUBS=${FANOUT_SUBS:-500}" CHANNELS=5 "RATE=${FANOUT_RATE:-20}" RAMP=10s SETTLE=2s \
			DURATION=60s DRAIN=5s ;;
	full:wsbench-fanout)
		wsbench_fanout ;;
	smoke:reconnect-storm)
		storm reconnect-storm drain "${STORM_CLIENTS:-150}" 150 CHANNELS=5 RATE=20 RAMP=5s SETTLE=1s DURATION=35s DRAIN=10s ;;
	full:reconnect-storm)
		storm reconnect-storm drain "${STORM_CLIENTS:-600}" 240 CHANNELS=10 RATE=20 RAMP=10s SETTLE=2s DURATION=60s DRAIN=10s ;;
	full:reconnect-storm-kill)
		storm reconnect-storm-kill kill "${STORM_CLIENTS:-600}" 240 CHANNELS=10 RATE=20 RAMP=10s SETTLE=2s DURATION=60s DRAIN=10s ;;
	full:soak)
		run_k6 soak soak.js $(($(to_seconds "${SOAK_DURATION:-3m}") + 120)) SUBS=200 CHANNELS=20 RATE=20 RAMP=10s SETTLE=2s "DURATION=${SOAK_DURATION:-3m}" PING_EVERY=10s ;;
	*)
		die "unknown scenario '$s' for $MODE mode (SCENARIOS=$SCENARIOS)" ;;
	esac
done

# --- the record ---------------------------------------------------------------------
runs=$(IFS=,; echo "${MANIFEST[*]}")
cat >"$RESULTS/manifest.json" <<EOF
{
  "mode": "$MODE",
  "source": "$(cd "$ROOT" && git describe --tags --always --dirty 2>/dev/null || echo unknown)",
  "started_unix": $START_UNIX,
  "finished_unix": $(date +%s),
  "host": {"cpus": $(nproc), "load_at_start": ${BENCH_LOAD:-null}, "quiet_at_start": "${BENCH_QUIET:-unknown}"},
  "cluster": {"nodes": 3, "broker": "redis $(redis-server --version | awk '{print $3}' | tr -d 'v=')", "load_balancer": "haproxy $(haproxy -v | head -1 | awk '{print $3}')", "balance": "leastconn", "health_check": "GET /readyz every 500ms", "drain_delay": "2s", "drain_window": "$DRAIN_WINDOW", "k6": "$K6_VERSION"},
  "tools": {"k6": "the k6 scenarios in loadtest/k6 (JSON summaries)", "wsbench": "service/cmd/wsbench, for fan-out points where k6's cost per message would measure k6"},
  "runs": [$runs]
}
EOF

if [ "$MODE" = full ] && compgen -G "$ROOT/loadtest/report/*.go" >/dev/null; then
	say "capacity report: go run ./loadtest/report -in $RESULTS -out $RESULTS"
	(cd "$ROOT" && go run ./loadtest/report -in "$RESULTS" -out "$RESULTS") || FAILED+=(report)
fi

say "done in $((SECONDS - START)) s; results in $RESULTS"
if [ ${#FAILED[@]} -gt 0 ]; then
	say "FAILED: ${FAILED[*]}"
	exit 1
fi
say "every threshold held"
