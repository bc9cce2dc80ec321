package jmeter

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The files of a run's results directory that Read uses: the plan's
// all-samples JTL (CSV with a header line) and JMeter's log (-j).
const (
	ResultsFile = "wsgateway.jtl"
	LogFile     = "jmeter.log"
)

// The plan's sample labels that carry the figures a capacity run reports.
const (
	LabelConnectSetup = "connect: setup"   // dial + upgrade + connect reply (transaction)
	LabelFanoutSetup  = "fanout: setup"    // the same for subscribers
	LabelDelivery     = "fanout: delivery" // one frame read; Latency = publish to receive
	LabelPublish      = "fanout: publish"  // POST /api/v1/publish
)

// Results are what one run wrote: every sample's outcome by label, the
// failed samples' messages, and the ERROR lines of JMeter's log (a script
// that threw does not fail its sample, so the log is read too).
type Results struct {
	Labels    map[string]*Label
	Failures  []string
	LogErrors []string
	// Lost and Duplicated are the publications the plan's offset assertion
	// named in its failure messages ("lost N publication(s) before offset
	// X", "duplicated offset X after Y"), over every subscriber.
	Lost, Duplicated int64
}

// lostRe and dupRe read the offset assertion's messages (wsgateway.jmx).
var (
	lostRe = regexp.MustCompile(`lost (\d+) publication`)
	dupRe  = regexp.MustCompile(`duplicated offset \d+`)
)

// countOffsets adds what one failure message of the offset assertion says.
func (r *Results) countOffsets(msg string) {
	for _, m := range lostRe.FindAllStringSubmatch(msg, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		r.Lost += n
	}
	r.Duplicated += int64(len(dupRe.FindAllString(msg, -1)))
}

// Label gathers the samples of one label. Millis holds each sample's
// figure: the elapsed time, except for fanout: delivery, whose figure is
// the Latency column the plan sets to the delivery latency.
type Label struct {
	Samples, Errors int
	Millis          []float64
	// Stamps are the successful samples' timeStamp column, Unix ms.
	Stamps []int64
}

// Quantile is the q-quantile (0..1) of the label's figures, nearest rank;
// zero without samples.
func (l *Label) Quantile(q float64) time.Duration {
	if l == nil || len(l.Millis) == 0 {
		return 0
	}
	s := slices.Clone(l.Millis)
	slices.Sort(s)
	i := int(q*float64(len(s)) + 0.5)
	i = min(max(i-1, 0), len(s)-1)
	return time.Duration(s[i] * float64(time.Millisecond))
}

// Read reads the results of a run from its results directory.
func Read(dir string) (*Results, error) {
	f, err := os.Open(filepath.Join(dir, ResultsFile))
	if err != nil {
		return nil, fmt.Errorf("jmeter results: %w", err)
	}
	defer f.Close()
	res, err := readJTL(f)
	if err != nil {
		return nil, fmt.Errorf("jmeter results %s: %w", f.Name(), err)
	}
	res.LogErrors, err = logErrors(filepath.Join(dir, LogFile))
	if err != nil {
		return nil, fmt.Errorf("jmeter log: %w", err)
	}
	return res, nil
}

func readJTL(r io.Reader) (*Results, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, h := range []string{"timeStamp", "elapsed", "label", "success", "failureMessage", "responseMessage", "Latency"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("no column %q in %v", h, header)
		}
	}
	res := &Results{Labels: map[string]*Label{}}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return nil, err
		}
		get := func(h string) string { return rec[col[h]] }
		label := get("label")
		l := res.Labels[label]
		if l == nil {
			l = &Label{}
			res.Labels[label] = l
		}
		l.Samples++
		if get("success") != "true" {
			l.Errors++
			msg := get("failureMessage")
			if msg == "" {
				msg = get("responseMessage")
			}
			res.Failures = append(res.Failures, label+": "+msg)
			res.countOffsets(msg)
			continue
		}
		figure := get("elapsed")
		if label == LabelDelivery {
			figure = get("Latency")
		}
		ms, err := strconv.ParseFloat(figure, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: figure %q: %w", label, figure, err)
		}
		stamp, err := strconv.ParseInt(get("timeStamp"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: timeStamp: %w", label, err)
		}
		l.Millis = append(l.Millis, ms)
		l.Stamps = append(l.Stamps, stamp)
	}
}

func logErrors(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var errs []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if strings.Contains(sc.Text(), " ERROR ") {
			errs = append(errs, sc.Text())
		}
	}
	return errs, sc.Err()
}

// Check says whether the run passed: no failed sample (an assertion, such
// as the plan's lost-or-repeated offset check, fails its sample), no ERROR
// in JMeter's log, and the labels named in want each have a sample, so a
// run that measured nothing does not pass.
func (r *Results) Check(want ...string) error {
	var problems []string
	const most = 10
	for i, f := range r.Failures {
		if i == most {
			problems = append(problems, fmt.Sprintf("... and %d more failed samples", len(r.Failures)-most))
			break
		}
		problems = append(problems, "failed sample "+f)
	}
	for i, e := range r.LogErrors {
		if i == most {
			problems = append(problems, fmt.Sprintf("... and %d more log errors", len(r.LogErrors)-most))
			break
		}
		problems = append(problems, "jmeter.log: "+e)
	}
	for _, l := range want {
		if r.Labels[l] == nil || len(r.Labels[l].Millis) == 0 {
			problems = append(problems, fmt.Sprintf("no successful %q sample", l))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("jmeter run failed:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}
