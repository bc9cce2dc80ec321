package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// clockTick is USER_HZ, the unit of /proc/PID/stat times. It is 100 on every
// Linux architecture Go supports (sysconf(_SC_CLK_TCK) would need cgo).
const clockTick = 100

// procSample is one reading of a process's memory and CPU time.
type procSample struct {
	at  time.Time
	rss uint64        // VmRSS, bytes
	cpu time.Duration // utime + stime, all threads
	// host is the machine's busy time (readHostBusy), in samples of "self".
	host time.Duration
}

// readHostBusy reads the CPU time the whole machine has spent busy (neither
// idle nor waiting for I/O), summed over CPUs, from the first line of
// /proc/stat. Compared with the gateway's and the tool's own, it shows how
// much of the machine something else took during a measurement.
func readHostBusy() (time.Duration, error) {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy uint64
	// user nice system idle iowait irq softirq steal (guest time is already
	// inside user and nice).
	for i, s := range f[1:9] {
		n, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / clockTick, nil
}

// readProc reads the process pid ("self" for this one) from /proc.
func readProc(pid string) (procSample, error) {
	s := procSample{at: time.Now()}
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return s, err
	}
	if s.rss, err = parseVmRSS(status); err != nil {
		return s, fmt.Errorf("/proc/%s/status: %w", pid, err)
	}
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return s, err
	}
	if s.cpu, err = parseCPU(stat); err != nil {
		return s, fmt.Errorf("/proc/%s/stat: %w", pid, err)
	}
	return s, nil
}

// parseVmRSS finds "VmRSS:   1234 kB" in /proc/PID/status.
func parseVmRSS(status []byte) (uint64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", line)
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		return kb * 1024, err
	}
	return 0, fmt.Errorf("no VmRSS line")
}

// parseCPU reads utime and stime (fields 14 and 15) from /proc/PID/stat. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name")
	}
	f := bytes.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("only %d fields", len(f)+2)
	}
	var ticks uint64
	for _, s := range f[11:13] {
		n, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTick, nil
}

// cores is the CPU used between two samples of one process, in cores.
func cores(a, b procSample) float64 {
	return perWall(b.cpu-a.cpu, a, b)
}

// hostCores is the CPU the whole machine used between two samples of
// "self", in cores.
func hostCores(a, b procSample) float64 {
	return perWall(b.host-a.host, a, b)
}

func perWall(d time.Duration, a, b procSample) float64 {
	wall := b.at.Sub(a.at)
	if wall <= 0 {
		return 0
	}
	return round3(float64(d) / float64(wall))
}

// procWatch reads one process's samples for a report. A process that cannot
// be read is logged once and reported as zeros rather than failing the run.
// The watch of "self" also samples the whole machine (procSample.host).
type procWatch struct {
	pid    string // "" when not watched
	failed bool
}

// newProcWatch watches pid; 0 watches nothing.
func newProcWatch(pid int) *procWatch {
	if pid == 0 {
		return &procWatch{}
	}
	return &procWatch{pid: strconv.Itoa(pid)}
}

// read samples the process now.
func (w *procWatch) read(log *slog.Logger) procSample {
	if w.pid == "" || w.failed {
		return procSample{at: time.Now()}
	}
	s, err := readProc(w.pid)
	if err == nil && w.pid == "self" {
		s.host, err = readHostBusy()
	}
	if err != nil {
		w.failed = true
		log.Warn("cannot read process stats; reporting zeros", "pid", w.pid, "err", err)
	}
	return s
}

// ok reports whether the process is watched and every read so far worked.
func (w *procWatch) ok() bool { return w.pid != "" && !w.failed }
