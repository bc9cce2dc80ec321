package auth

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// ErrCriticalHeader means a token's header has a "crit" parameter. RFC 7515
// section 4.1.11: a recipient must refuse a token whose crit names an
// extension it does not understand, and this verifier understands none.
// The jwt package does not look at crit, so Verify does.
var ErrCriticalHeader = errors.New(`token header lists critical extensions ("crit"); none is supported`)

// checkCrit refuses a token with any crit header, even an empty or
// malformed one: an empty list is itself invalid per RFC 7515.
func checkCrit(t *jwt.Token) error {
	if _, ok := t.Header["crit"]; ok {
		return ErrCriticalHeader
	}
	return nil
}
