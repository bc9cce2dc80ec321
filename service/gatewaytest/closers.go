package gatewaytest

import "errors"

// Closers is what a test tool started, to stop in reverse: a node started
// after its Redis stops before it. Tests use t.Cleanup, which already runs
// in reverse; commands that start nodes and Redis (wsbench, loadtest/run)
// use Closers.
type Closers []func() error

// Add records one more thing to stop.
func (c *Closers) Add(close func() error) { *c = append(*c, close) }

// Close stops everything, newest first, and returns every error joined.
func (c Closers) Close() error {
	var errs []error
	for i := len(c) - 1; i >= 0; i-- {
		errs = append(errs, c[i]())
	}
	return errors.Join(errs...)
}
