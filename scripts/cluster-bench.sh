#!/usr/bin/env bash
# cluster-bench.sh measures the cluster mode (--redis-url). It starts a
# redis-server of its own on a free port (no persistence, its own --dir) and
# two --dev gateway nodes on it, A and B, then runs these parts (PARTS):
#   periodic  PERIODIC_CONNS (5000) idle subscribers on B for PERIODIC_S (30):
#             the Redis commands the nodes send with nothing published
#             (heartbeats, presence refresh, position checks, pub/sub pings)
#   latency   cross-node: subscribers on B, publisher on A's API, at each of
#             LATENCY_POINTS ("500x20 1000x10": subscribers x msg/s)
#   sweep     one channel through Redis: CONNS (5000) subscribers on B,
#             publisher on A, at each of RATES ("2 5 10 20 30" msg/s)
#   single    the same on one node: subscribers and publisher on A, at each
#             of SINGLE_RATES ("20")
#   inproc    the in-process broker as a same-session baseline: a third node
#             C without --redis-url runs every latency and sweep point too,
#             right after the cross-node run of that point, so that both
#             meet the same machine
# POINTS, when set, replaces latency, sweep, single and inproc with a list of
# TOPOLOGY:SUBSCRIBERSxRATE run in that order, TOPOLOGY being cross, single
# or inproc (e.g. POINTS="cross:5000x15 inproc:5000x15").
#
# Before each run it waits until the machine is quiet (wait_quiet in
# bench-lib.sh). Each run prints wsbench's JSON line; each run through Redis
# then prints a summary line, {"commandstats": ...}: the calls Redis counted
# (INFO commandstats, commands run inside the publish script included)
# during the measured window, per publication and per delivery, the round
# trips each node made, by operation (the gateway's
# wsgateway_redis_op_duration_seconds_count), and the CPU of the nodes and
# of redis-server. The periodic part prints {"periodic": ...} with the same
# counts per second.
#
# Usage: scripts/cluster-bench.sh
# Environment: PARTS (default "periodic latency sweep single inproc"),
# POINTS and the lists above, DURATION (10s), WARMUP (2s),
# CLUSTER_PORT_BASE (28180: nodes A, B, C on BASE, BASE+2, BASE+4, each with
# API +1 and admin +100, all below the ephemeral port range so that no
# outgoing connection holds one of them), REDIS_PORT_BASE (26400),
# PPROF_SECONDS (profile the nodes of every run for that long from the
# window's start, with --pprof; keep it under DURATION; PROFILE_DIR keeps the
# profiles), BENCH_SOURCE (names the source measured when it is not a git
# checkout), plus bench-lib.sh's (SKIP_BUILD, GATEWAY_ARGS, QUIET_LOAD,
# QUIET_MAX_S, QUIET_EVERY_S).
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

PARTS=${PARTS:-periodic latency sweep single inproc}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-5000}
PERIODIC_CONNS=${PERIODIC_CONNS:-5000}
PERIODIC_S=${PERIODIC_S:-30}
PPROF_SECONDS=${PPROF_SECONDS:-}

has_part() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac }

# node NAME FIELD prints a node's PID, CLIENT, API, ADMIN or LOG.
node() {
	local v="NODE_${1}_$2"
	printf '%s' "${!v}"
}

# find_base prints the first base (CLUSTER_PORT_BASE, then +100, ...) whose
# three nodes' ports are all free.
find_base() {
	local base=${CLUSTER_PORT_BASE:-28180} try off ok
	for ((try = 0; try < 10; try++, base += 100)); do
		ok=1
		for off in 0 1 2 3 4 5 100 102 104; do
			port_free $((base + off)) || { ok=0 && break; }
		done
		if [ $ok = 1 ]; then
			echo "$base"
			return 0
		fi
	done
	echo "cluster-bench: no free ports from ${CLUSTER_PORT_BASE:-28180}" >&2
	return 1
}

# snapshot FILE records, one "key value" a line: the time (t), Redis's
# per-command calls and microseconds (calls.CMD, usec.CMD), each node's
# Redis round trips by operation and the seconds they took (ops.NODE.OP,
# opsec.NODE.OP) and the CPU ticks of the nodes and of redis-server
# (cpu.NODE, cpu.redis).
snapshot() {
	local n pid
	{
		printf 't %s\n' "$(date +%s.%N)"
		redis-cli -p "$REDIS_PORT" INFO commandstats | tr -d '\r' |
			sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),usec=\([0-9]*\),.*/calls.\1 \2\nusec.\1 \3/p'
		for n in $NODES; do
			curl -fsS "http://$(node "$n" ADMIN)/metrics" 2>/dev/null |
				sed -n -e 's/^wsgateway_redis_op_duration_seconds_count{op="\([a-z_]*\)"} \([0-9.e+-]*\)$/ops.'"$n"'.\1 \2/p' \
					-e 's/^wsgateway_redis_op_duration_seconds_sum{op="\([a-z_]*\)"} \([0-9.e+-]*\)$/opsec.'"$n"'.\1 \2/p' || true
		done
		for n in $NODES redis; do
			if [ "$n" = redis ]; then pid=$REDIS_PID; else pid=$(node "$n" PID); fi
			# utime + stime (fields 14 and 15; 12 and 13 after the ") ")
			sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk -v n="$n" '{ print "cpu." n, $12 + $13 }' || true
		done
	} >"$1"
}

# deltas_json computes the JSON fields of a summary from snapshots: WHAT is
# "window" (FROM, TO: the measured window, plus RUN_FROM, RUN_TO: the whole
# run) or "periodic" (FROM, TO). SUBS is the subscriber count, SUBNODE and
# PUBNODE the nodes with the subscribers and the publisher.
deltas_json() {
	local what=$1 subs=$2 subnode=$3 pubnode=$4
	shift 4
	awk -v what="$what" -v subs="$subs" -v subnode="$subnode" -v pubnode="$pubnode" \
		-v tck="$(getconf CLK_TCK)" -v nodes="$NODES" '
	function num(x) { # a JSON number: integers as such, others to 4 significant digits
		if (x == int(x) && x < 1e15 && x > -1e15) return sprintf("%d", x)
		return sprintf("%.4g", x)
	}
	function d(k) { return v[2, k] - v[1, k] }
	function dr(k) { return v[4, k] - v[3, k] }
	# obj(prefix, scale, which): {"name": delta/scale} for every key with
	# that prefix and a non-zero delta, in name order; which 1: window, 2: run.
	function obj(prefix, scale, which,    n, i, j, k, t, out, val, names) {
		n = 0
		for (k in keys) if (index(k, prefix) == 1 && k != "calls.info") {
			val = (which == 1) ? d(k) : dr(k)
			if (val != 0) names[++n] = k
		}
		for (i = 2; i <= n; i++) for (j = i; j > 1 && names[j-1] > names[j]; j--) { t = names[j]; names[j] = names[j-1]; names[j-1] = t }
		out = "{"
		for (i = 1; i <= n; i++) {
			val = (which == 1) ? d(names[i]) : dr(names[i])
			out = out (i > 1 ? "," : "") "\"" substr(names[i], length(prefix) + 1) "\":" num(val / scale)
		}
		return out "}"
	}
	function sumops(node,    k, s) { # round trips of a node, less the API publishes
		s = 0
		for (k in keys) if (index(k, "ops." node ".") == 1 && k != "ops." node ".publish") s += d(k)
		return s
	}
	function pernode(scale,    i, nn, out) {
		nn = split(nodes, nl, " ")
		out = "{"
		for (i = 1; i <= nn; i++) out = out (i > 1 ? "," : "") "\"" nl[i] "\":" obj("ops." nl[i] ".", scale, 1)
		return out "}"
	}
	# mean milliseconds per round trip in the window, by node and op
	function meanms(    i, j, nn, out, k, op, n, names, t, first) {
		nn = split(nodes, nl, " ")
		out = "{"
		for (i = 1; i <= nn; i++) {
			n = 0
			for (k in keys) if (index(k, "ops." nl[i] ".") == 1 && d(k) > 0) names[++n] = substr(k, length("ops." nl[i] ".") + 1)
			for (j = 2; j <= n; j++) for (t = j; t > 1 && names[t-1] > names[t]; t--) { op = names[t]; names[t] = names[t-1]; names[t-1] = op }
			out = out (i > 1 ? "," : "") "\"" nl[i] "\":{"
			for (j = 1; j <= n; j++) out = out (j > 1 ? "," : "") "\"" names[j] "\":" num(d("opsec." nl[i] "." names[j]) / d("ops." nl[i] "." names[j]) * 1000)
			out = out "}"
		}
		return out "}"
	}
	function cpu(scale,    i, nn, out) {
		nn = split(nodes " redis", nl, " ")
		out = "{"
		for (i = 1; i <= nn; i++) out = out (i > 1 ? "," : "") "\"" nl[i] "\":" num(int(d("cpu." nl[i]) / tck / scale * 1000 + 0.5) / 1000)
		return out "}"
	}
	FNR == 1 { f++ }
	{ v[f, $1] = $2; keys[$1] = 1 }
	END {
		dt = d("t")
		if (what == "periodic") {
			printf "\"seconds\":%s,\"redis_calls_per_s\":%s,\"round_trips_per_s\":%s,\"round_trip_ms_mean\":%s,\"cpu_cores\":%s",
				num(int(dt * 1000 + 0.5) / 1000), obj("calls.", dt, 1), pernode(dt), meanms(), cpu(dt)
			exit
		}
		pubs = d("calls.publish") + d("calls.spublish") # one PUBLISH per run of the publish script
		evals = d("calls.evalsha") + d("calls.eval")
		other = 0
		for (k in keys) if (index(k, "ops.") == 1 && k != "ops." pubnode ".publish") other += d(k)
		deliv = pubs * subs
		printf "\"window_s\":%s,\"publications\":%d,\"deliveries\":%d", num(int(dt * 1000 + 0.5) / 1000), pubs, deliv
		if (pubs == 0) { printf ",\"error\":\"no publication in the window\""; exit }
		printf ",\"evalsha_per_publication\":%s", num(evals / pubs)
		printf ",\"evalsha_usec_per_call\":%s", num(evals > 0 ? (d("usec.evalsha") + d("usec.eval")) / evals : 0)
		printf ",\"publish_round_trips_per_publication\":%s", num(d("ops." pubnode ".publish") / pubs)
		printf ",\"other_round_trips_window\":%d", other
		printf ",\"subscriber_node_round_trips_window\":%d", sumops(subnode)
		printf ",\"subscriber_node_round_trips_per_delivery\":%s", num(sumops(subnode) / deliv)
		printf ",\"redis_calls_window\":%s", obj("calls.", 1, 1)
		printf ",\"redis_calls_per_publication\":%s", obj("calls.", pubs, 1)
		printf ",\"redis_calls_per_delivery\":%s", obj("calls.", deliv, 1)
		printf ",\"round_trips_window\":%s", pernode(1)
		printf ",\"round_trip_ms_mean_window\":%s", meanms()
		printf ",\"cpu_cores_window\":%s", cpu(dt)
		printf ",\"redis_calls_run\":%s", obj("calls.", 1, 2)
	}' "$@"
}

# seconds DURATION prints a Go-style duration (500ms, 10s, 1m) in seconds.
seconds() {
	case $1 in
	*ms) awk -v v="${1%ms}" 'BEGIN { print v / 1000 }' ;;
	*s) echo "${1%s}" ;;
	*m) awk -v v="${1%m}" 'BEGIN { print v * 60 }' ;;
	*) echo "cluster-bench: cannot read duration $1 (use ms, s or m)" >&2 && return 1 ;;
	esac
}

# sleep_until T sleeps until the Unix time T (fractional seconds).
sleep_until() {
	sleep "$(awk -v t="$1" -v n="$(date +%s.%N)" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')"
}

# await_log FILE PATTERN PID waits until wsbench (PID) logs PATTERN in FILE;
# it fails if wsbench ended first.
await_log() {
	while ! grep -q "$2" "$1" 2>/dev/null; do
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.05
	done
}

# start_profiles NAME NODES... fetches a CPU profile of each node for
# PPROF_SECONDS in the background, into PROFILE_DIR/NAME-NODE.pprof.
PROFILE_JOBS=()
start_profiles() {
	local name=$1 n
	shift
	[ -n "$PPROF_SECONDS" ] || return 0
	for n in "$@"; do
		curl -fsS -o "$PROFILE_DIR/$name-$n.pprof" \
			"http://$(node "$n" ADMIN)/debug/pprof/profile?seconds=$PPROF_SECONDS" &
		PROFILE_JOBS+=("$!")
	done
}

show_profiles() {
	local name=$1 n p
	shift
	[ -n "$PPROF_SECONDS" ] || return 0
	for p in "${PROFILE_JOBS[@]}"; do wait "$p" || true; done
	PROFILE_JOBS=()
	for n in "$@"; do
		echo "cluster-bench: CPU profile of node $n ($PROFILE_DIR/$name-$n.pprof):" >&2
		go tool pprof -top -nodecount=30 "$BIN/wsgateway" "$PROFILE_DIR/$name-$n.pprof" 2>/dev/null | head -45 >&2 || true
	done
}

# run_point LABEL SUBNODE PUBNODE SUBSCRIBERS RATE runs one wsbench fanout
# against the nodes and prints its JSON line, then (through Redis) the
# summary line.
run_point() {
	local label=$1 sub=$2 pub=$3 conns=$4 rate=$5 tmp wpid rc=0 published=0 name subscribed t0
	local -a profiled=("$sub")
	[ "$pub" = "$sub" ] || profiled+=("$pub")
	wait_quiet
	echo "cluster-bench: $label: $conns subscribers on $sub, publisher on $pub, $rate msg/s (load $BENCH_LOAD)" >&2
	tmp=$(mktemp -d -t cluster-bench.XXXXXX)
	BENCH_TMPDIRS+=("$tmp")
	name=$(printf '%s' "$label" | tr -c 'A-Za-z0-9' '-')
	[ "$sub" = C ] || snapshot "$tmp/s0"
	"$BIN/wsbench" -scenario fanout -url "ws://$(node "$sub" CLIENT)/ws" -api "http://$(node "$pub" API)" \
		-server-pid "$(node "$sub" PID)" -conns "$conns" -rate "$rate" -duration "$DURATION" -warmup "$WARMUP" \
		-timeout 5m >"$tmp/out" 2>"$tmp/err" &
	wpid=$!
	BENCH_PIDS+=("$wpid")
	if await_log "$tmp/err" 'msg=publishing' "$wpid"; then
		# The window: from wsbench's (the warm-up's end) to 0.25 s before its
		# end, when wsbench starts closing the subscribers: steady publishing
		# only, no subscribe or unsubscribe traffic.
		t0=$(date +%s.%N)
		published=1
		sleep_until "$(awk -v t="$t0" -v w="$(seconds "$WARMUP")" 'BEGIN { printf "%.3f", t + w }')"
		[ "$sub" = C ] || snapshot "$tmp/w0"
		start_profiles "$name" "${profiled[@]}"
		sleep_until "$(awk -v t="$t0" -v w="$(seconds "$WARMUP")" -v d="$(seconds "$DURATION")" 'BEGIN { printf "%.3f", t + w + d - 0.25 }')"
		[ "$sub" = C ] || snapshot "$tmp/w1"
	fi
	wait "$wpid" || rc=$?
	forget_pid "$wpid"
	cat "$tmp/err" >&2
	[ $rc = 0 ] || echo "cluster-bench: $label: wsbench exited $rc" >&2
	cat "$tmp/out"
	show_profiles "$name" "${profiled[@]}"
	if [ "$sub" != C ] && [ $published = 1 ]; then
		snapshot "$tmp/e"
		subscribed=$(sed -n 's/.*"subscribed":\([0-9]*\).*/\1/p' "$tmp/out")
		printf '{"commandstats":"%s","subscriber_node":"%s","publisher_node":"%s","subscribers":%s,"rate":%s,"load_avg_at_start":%s,"quiet":%s,%s}\n' \
			"$label" "$sub" "$pub" "${subscribed:-0}" "$rate" "$BENCH_LOAD" "$BENCH_QUIET" \
			"$(deltas_json window "${subscribed:-0}" "$sub" "$pub" "$tmp/w0" "$tmp/w1" "$tmp/s0" "$tmp/e")"
	fi
	sleep 2 # let the gateway finish closing the run's connections
}

# run_periodic holds PERIODIC_CONNS subscribers idle on B and prints the
# Redis commands per second meanwhile.
run_periodic() {
	local tmp wpid rc=0
	wait_quiet
	echo "cluster-bench: periodic: $PERIODIC_CONNS idle subscribers on B for ${PERIODIC_S}s (load $BENCH_LOAD)" >&2
	tmp=$(mktemp -d -t cluster-bench.XXXXXX)
	BENCH_TMPDIRS+=("$tmp")
	"$BIN/wsbench" -scenario idle -url "ws://$(node B CLIENT)/ws" -api "http://$(node B API)" \
		-server-pid "$(node B PID)" -conns "$PERIODIC_CONNS" -subscribe "bench:periodic-$$" \
		-hold "$((PERIODIC_S + 3))s" -timeout 5m >"$tmp/out" 2>"$tmp/err" &
	wpid=$!
	BENCH_PIDS+=("$wpid")
	if await_log "$tmp/err" 'msg=holding' "$wpid"; then
		sleep 1
		snapshot "$tmp/p0"
		sleep "$PERIODIC_S"
		snapshot "$tmp/p1"
	fi
	wait "$wpid" || rc=$?
	forget_pid "$wpid"
	cat "$tmp/err" >&2
	cat "$tmp/out"
	if [ -s "$tmp/p1" ]; then
		printf '{"periodic":"idle subscribers on B","subscribers":%s,"load_avg_at_start":%s,"quiet":%s,%s}\n' \
			"$PERIODIC_CONNS" "$BENCH_LOAD" "$BENCH_QUIET" "$(deltas_json periodic "$PERIODIC_CONNS" B B "$tmp/p0" "$tmp/p1")"
	else
		echo "cluster-bench: periodic: wsbench ended (exit $rc) before holding" >&2
	fi
	sleep 2
}

raise_nofile
build_bench
echo "cluster-bench: source ${BENCH_SOURCE:-$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)}" >&2
command -v redis-cli >/dev/null || { echo "cluster-bench: redis-cli not found (scripts/deps.sh installs it)" >&2; exit 1; }
if [ -n "$PPROF_SECONDS" ]; then
	GATEWAY_ARGS="${GATEWAY_ARGS:-} --pprof"
	PROFILE_DIR=${PROFILE_DIR:-$(mktemp -d -t cluster-bench-profiles.XXXXXX)}
	mkdir -p "$PROFILE_DIR"
	echo "cluster-bench: profiles go to $PROFILE_DIR" >&2
fi
# The points to run, TOPOLOGY:SUBSCRIBERSxRATE.
if [ -z "${POINTS:-}" ]; then
	POINTS=
	pair() {
		POINTS="$POINTS cross:$1"
		if has_part inproc; then POINTS="$POINTS inproc:$1"; fi
	}
	if has_part latency; then
		for p in ${LATENCY_POINTS:-500x20 1000x10}; do pair "$p"; done
	fi
	if has_part sweep; then
		for rate in ${RATES:-2 5 10 20 30}; do pair "${CONNS}x$rate"; done
	fi
	if has_part single; then
		for rate in ${SINGLE_RATES:-20}; do POINTS="$POINTS single:${CONNS}x$rate"; done
	fi
fi

start_redis "${REDIS_PORT_BASE:-26400}"
base=$(find_base)
start_node A "$base" --redis-url "redis://127.0.0.1:$REDIS_PORT"
start_node B $((base + 2)) --redis-url "redis://127.0.0.1:$REDIS_PORT"
NODES="A B" # the nodes on Redis
case " $POINTS " in
*" inproc:"*) start_node C $((base + 4)) ;; # the in-process broker
esac

if has_part periodic; then
	run_periodic
fi
for point in $POINTS; do
	topo=${point%%:*} size=${point#*:}
	subs=${size%x*} rate=${size#*x}
	case $topo in
	cross) run_point "cross-node ${subs}x$rate" B A "$subs" "$rate" ;;
	single) run_point "one node via redis ${subs}x$rate" A A "$subs" "$rate" ;;
	inproc) run_point "in-process ${subs}x$rate" C C "$subs" "$rate" ;;
	*) echo "cluster-bench: unknown topology in $point (cross, single or inproc)" >&2 && exit 2 ;;
	esac
done
