package redistest

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestMissingBinaryFailsWithInstallHint(t *testing.T) {
	skipShort(t) // Start would skip, which is what TestShortSkips checks
	tests := []struct {
		name   string
		onPath []string // the binaries left on PATH
		start  func(testing.TB)
		want   string
	}{
		{"server", nil, func(tb testing.TB) { Start(tb, Options{}) },
			"redis-server not found: install it (apt-get install -y redis-server, or run `make deps`)"},
		{"sentinel", []string{"redis-server", "redis-cli"}, func(tb testing.TB) { StartSentinel(tb) },
			"redis-sentinel not found: install it (apt-get install -y redis-sentinel, or run `make deps`)"},
		{"cluster", []string{"redis-server"}, func(tb testing.TB) { StartCluster(tb) },
			"redis-cli not found: install it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", pathWith(t, tt.onPath))
			rec := &fatalRecorder{TB: t}
			runRecorded(func() { tt.start(rec) })
			if rec.skipped {
				t.Errorf("skipped; want a failure")
			}
			if !strings.HasPrefix(rec.fatal, tt.want) {
				t.Errorf("fatal %q, want it to start with %q", rec.fatal, tt.want)
			}
		})
	}
}

// pathWith returns a PATH holding links to only the named binaries.
func pathWith(t *testing.T, bins []string) string {
	dir := t.TempDir()
	for _, bin := range bins {
		target, err := exec.LookPath(bin)
		if err != nil {
			t.Fatalf("%s must be installed for this test: %v", bin, err)
		}
		if err := os.Symlink(target, filepath.Join(dir, bin)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fatalRecorder is a testing.TB whose Fatalf and Skip record the message
// and end the goroutine, as the real ones do; runRecorded runs it.
type fatalRecorder struct {
	testing.TB
	fatal   string
	skipped bool
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *fatalRecorder) Fatal(args ...any)                { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *fatalRecorder) Skip(args ...any)                 { r.SkipNow() }
func (r *fatalRecorder) Skipf(format string, args ...any) { r.SkipNow() }
func (r *fatalRecorder) SkipNow()                         { r.skipped = true; runtime.Goexit() }

// runRecorded runs f on its own goroutine, so that a recorded Fatalf ends
// only f, and waits for it.
func runRecorded(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func TestShortSkips(t *testing.T) {
	tests := []struct {
		name  string
		start func(testing.TB)
	}{
		{"server", func(tb testing.TB) { Start(tb, Options{}) }},
		{"sentinel", func(tb testing.TB) { StartSentinel(tb) }},
		{"cluster", func(tb testing.TB) { StartCluster(tb) }},
	}
	was := flag.Lookup("test.short").Value.String()
	if err := flag.Set("test.short", "true"); err != nil { // the whole binary's: this test must not be parallel
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set("test.short", was) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir()) // nothing to start: a missing binary would fail, not skip
			rec := &fatalRecorder{TB: t}
			runRecorded(func() { tt.start(rec) })
			if !rec.skipped || rec.fatal != "" {
				t.Errorf("skipped %v, fatal %q; want a skip under -short", rec.skipped, rec.fatal)
			}
		})
	}
}
