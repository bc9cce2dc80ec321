#!/usr/bin/env bash
# fanout-sweep.sh is `wsbench -suite fanout-sweep` (service/cmd/wsbench/suite.go),
# kept for the command lines that name it: 5,000 subscribers at each of
# -rates (default "2 5 10 20 30") against a --dev gateway it starts, one JSON
# line per rate. Flags: -rates, -conns, -duration, -warmup, any wsbench flag.
cd "$(dirname "$0")/.." && exec go run ./service/cmd/wsbench -suite fanout-sweep "$@"
