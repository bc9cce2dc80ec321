package redistest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// maxOutput bounds the output kept per process; only the tail matters.
const maxOutput = 64 << 10

// process is one child process and its combined stdout and stderr. The test
// goroutine owns it; one goroutine waits for the exit, records err and then
// closes done, so err may be read only after done is closed.
type process struct {
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{}
	err  error
}

// startProcess runs bin with args in dir and starts waiting for its exit.
func startProcess(bin string, args []string, dir string) (*process, error) {
	out := &tailBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	// A fork child (an AOF rewrite, say) may hold the output pipe open after
	// the server dies; Wait must not hang on it.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited and been reaped.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to this process alone, by its PID, and waits up to
// timeout for it to exit.
func (p *process) signal(sig os.Signal, timeout time.Duration) error {
	pid := p.cmd.Process.Pid
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal pid %d: %w", pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("pid %d still running %v after %v", pid, timeout, sig)
	}
}

// tail returns the last lines of the process's output, for failure messages.
func (p *process) tail() string {
	return p.out.tail(30)
}

// tailBuffer keeps the last maxOutput bytes written to it. The exec package's
// copier goroutine writes; the test goroutine reads; mu guards b.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

// Write appends p, dropping the oldest bytes beyond maxOutput.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > maxOutput {
		t.b = append([]byte(nil), t.b[len(t.b)-maxOutput:]...)
	}
	return len(p), nil
}

// String returns everything kept.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// tail returns the last n lines kept.
func (t *tailBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(t.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
