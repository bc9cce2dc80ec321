package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// profiler fetches CPU profiles of the nodes of each cluster point (their
// --pprof endpoint) and prints the top of each. A nil profiler does nothing.
type profiler struct {
	seconds int
	dir     string
	bin     string // the gateway binary, for go tool pprof
	wg      sync.WaitGroup
	files   []string
}

// newProfiler returns nil unless -pprof-seconds asks for profiles.
func newProfiler(c clusterConfig) (*profiler, error) {
	if c.pprofSeconds <= 0 {
		return nil, nil
	}
	bin, err := gatewaytest.Build(gatewaytest.BuildOptions{})
	if err != nil {
		return nil, err
	}
	dir := c.profileDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "cluster-bench-profiles-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &profiler{seconds: c.pprofSeconds, dir: dir, bin: bin}, nil
}

// start fetches a profile of each named node in the background, into
// dir/POINT-NODE.pprof.
func (p *profiler) start(log *slog.Logger, pt point, nodes map[string]*gatewaytest.Node, names []string) {
	if p == nil {
		return
	}
	client := &http.Client{Timeout: time.Duration(p.seconds)*time.Second + 30*time.Second}
	for _, name := range names {
		file := filepath.Join(p.dir, strings.Map(safeRune, pt.label())+"-"+name+".pprof")
		url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", nodes[name].AdminURL(), p.seconds)
		p.files = append(p.files, file)
		p.wg.Go(func() {
			if err := fetchTo(client, url, file); err != nil {
				log.Warn("CPU profile", "node", name, "err", err)
			}
		})
	}
}

// show waits for the profiles and prints the top of each to w (stderr).
func (p *profiler) show(w io.Writer) {
	if p == nil {
		return
	}
	p.wg.Wait()
	for _, f := range p.files {
		out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=30", p.bin, f).CombinedOutput()
		if err != nil {
			fmt.Fprintf(w, "wsbench: go tool pprof %s: %v\n", f, err)
		}
		fmt.Fprintf(w, "wsbench: CPU profile %s:\n%s\n", f, out)
	}
	p.files = nil
}

// fetchTo saves url's body in file.
func fetchTo(client *http.Client, url, file string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}

// safeRune keeps letters and digits of a label, for a file name.
func safeRune(r rune) rune {
	if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
		return r
	}
	return '-'
}
