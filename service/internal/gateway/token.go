package gateway

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wsgateway/wsgateway/service/internal/auth"
)

// runToken prints an HS256 client token: a helper for trying the gateway,
// for tests and for the load tools, not a replacement for a real issuer.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sub := fs.String("sub", "", "user id (required)")
	secret := fs.String("secret", getenv("WSG_JWT_SECRET"), "HS256 secret (default $WSG_JWT_SECRET)")
	subscribe := fs.String("subscribe", "", "comma list of channel patterns the user may subscribe to")
	publish := fs.String("publish", "", "comma list of channel patterns the user may publish to")
	send := fs.String("send", "", "comma list of inbox topic patterns the user may send to")
	ttl := fs.Duration("ttl", time.Hour, "lifetime; 0 for a token that never expires")
	aud := fs.String("aud", "", "audience claim")
	iss := fs.String("iss", "", "issuer claim")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, "usage: wsgateway token --sub USER --secret S [--subscribe 'chat:*'] [--publish 'chat:*'] [--send 'orders'] [--ttl 1h]")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	}
	if err == nil && (*sub == "" || *secret == "") {
		err = errors.New("--sub and --secret are required")
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsgateway token: %v\n", err)
		return 1
	}
	tok, err := auth.SignHS256([]byte(*secret), auth.TokenSpec{
		User: *sub, Subscribe: list(*subscribe), Publish: list(*publish), Send: list(*send), TTL: *ttl, Audience: *aud, Issuer: *iss,
	})
	if err != nil {
		fmt.Fprintf(stderr, "wsgateway token: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
