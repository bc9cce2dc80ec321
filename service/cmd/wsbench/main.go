// Command wsbench measures a wsgateway node: how many idle connections it
// holds and what each costs (-scenario idle), and how fast and how
// faithfully it fans publications out to many subscribers (-scenario
// fanout). It prints one JSON line of results on stdout; progress goes to
// stderr. scripts/idle.sh and scripts/fanout-sweep.sh run it against a
// gateway they start.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
