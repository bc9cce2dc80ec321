// Package auth owns client authentication and authorization: it turns a JWT
// into Claims (user, expiry, channel permissions), accepting only the one
// algorithm that the configured key implies, and it decides whether those
// Claims may subscribe or publish to a channel, including the personal
// channel rule ("user:<id>" belongs to that user alone). It does no I/O
// beyond reading the key it is handed, and imports nothing of ours.
package auth
