package main

import (
	"testing"
	"time"
)

func TestParseVmRSS(t *testing.T) {
	status := []byte("Name:\twsgateway\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\nThreads:\t7\n")
	got, err := parseVmRSS(status)
	if err != nil || got != 12345*1024 {
		t.Fatalf("parseVmRSS = %d, %v; want %d", got, err, 12345*1024)
	}
	if _, err := parseVmRSS([]byte("Name:\tx\n")); err == nil {
		t.Fatal("no error without a VmRSS line")
	}
}

func TestParseCPUCountsFromTheLastParenthesis(t *testing.T) {
	// The command name may hold spaces and ')'; utime 150 and stime 50 ticks.
	stat := []byte("4242 (ws gate) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 9 0 100 0 0")
	got, err := parseCPU(stat)
	if err != nil || got != 2*time.Second {
		t.Fatalf("parseCPU = %v, %v; want 2s", got, err)
	}
	if _, err := parseCPU([]byte("1 (x) S 1 2")); err == nil {
		t.Fatal("no error for a short line")
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := readProc("self")
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if s.rss == 0 {
		t.Fatalf("own RSS is zero: %+v", s)
	}
}

func TestCores(t *testing.T) {
	t0 := time.Unix(100, 0)
	a := procSample{at: t0, cpu: time.Second}
	b := procSample{at: t0.Add(2 * time.Second), cpu: 4 * time.Second}
	if got := cores(a, b); got != 1.5 {
		t.Fatalf("cores = %v, want 1.5", got)
	}
	if got := cores(b, b); got != 0 {
		t.Fatalf("cores over no time = %v, want 0", got)
	}
}
