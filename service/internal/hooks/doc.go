// Package hooks calls the backend's hook endpoints (CONTRACT §6,
// docs/hooks.md): it owns the hooks configuration, one HTTP client, one
// circuit breaker per endpoint, the coalescing and short cache of connect
// calls, and the hook metrics. It never retries a call: the mesh does, and
// the Idempotency-Key header lets the backend recognise a repeat.
package hooks
