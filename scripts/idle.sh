#!/usr/bin/env bash
# idle.sh is `wsbench -suite idle` (service/cmd/wsbench/suite.go), kept for
# the command lines that name it: 19,900 idle connections against a --dev
# gateway it starts. Flags: -conns, -hold, any other wsbench flag.
cd "$(dirname "$0")/.." && exec go run ./service/cmd/wsbench -suite idle "$@"
