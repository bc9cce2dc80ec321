#!/usr/bin/env bash
# cluster-bench.sh is `wsbench -suite cluster` (service/cmd/wsbench/cluster.go),
# kept for the command lines that name it: a redis-server of its own, nodes A
# and B on it (and C with the in-process broker), the parts of -parts or the
# points of -points, each after waiting for a quiet machine, each printing
# wsbench's line and a {"commandstats": ...} summary. Flags: -parts, -points,
# -latency-points, -rates, -single-rates, -periodic, -pprof-seconds, any wsbench flag.
cd "$(dirname "$0")/.." && exec go run ./service/cmd/wsbench -suite cluster "$@"
