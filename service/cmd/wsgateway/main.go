// Command wsgateway is the WebSocket gateway node. See README.md.
package main

import (
	"context"
	"io"
	"os"

	"github.com/wsgateway/wsgateway/service/internal/gateway"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the program with its surroundings passed in, so tests run it in
// process exactly as main does.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return gateway.Run(ctx, version, args, getenv, stdout, stderr)
}
