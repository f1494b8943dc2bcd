// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Names in the collector's own telemetry (service.telemetry.metrics).
const (
	acceptedLogRecords = "otelcol_receiver_accepted_log_records"
	refusedLogRecords  = "otelcol_receiver_refused_log_records"
)

// collector is one run of the collector under test.
type collector struct {
	proc     *process
	sink     *sink
	promURL  string
	receiver string // the tcp_drop receiver's id, the label in the telemetry
	ctx      context.Context
	cancel   context.CancelCauseFunc
}

// snapshot is everything the bench reads of a collector at one moment.
type snapshot struct {
	counts
	Accepted uint64 // log records the pipeline took from the receiver
	Refused  uint64 // log records the pipeline refused (memory_limiter)
	HasLogs  bool   // the telemetry had the accepted counter at all
	// Summaries are the summary records of repeats the sink received, for
	// a mode that sends it its logs (among Accepted).
	Summaries summaries
}

func (s snapshot) same(o snapshot) bool {
	return s.Packets == o.Packets && s.Lost == o.Lost && s.Shed == o.Shed && s.Filtered == o.Filtered &&
		s.Repeated == o.Repeated && s.Uncounted == o.Uncounted && s.Missed == o.Missed && s.Accepted == o.Accepted &&
		s.Refused == o.Refused && s.Summaries == o.Summaries
}

// errExited ends every wait when the collector exits on its own.
var errExited = errors.New("the collector exited")

// exitCause is errExited with the collector's exit status and log.
func exitCause(p *process) error {
	if p.waitErr == nil {
		return fmt.Errorf("%w with status 0; its log:\n%s", errExited, p.logTail())
	}
	return fmt.Errorf("%w: %w; its log:\n%s", errExited, p.waitErr, p.logTail())
}

// startCollector writes the mode's configs into dir and starts the
// collector with them. ctx bounds every later wait on it.
func startCollector(ctx context.Context, bin, dir string, m mode, s *sink, interval time.Duration, out io.Writer) (*collector, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var generated []byte
	if m.configFile == "" {
		if generated, err = benchConfig(m.receiver); err != nil {
			return nil, err
		}
	}
	files, recv, err := writeConfigs(dir, m.configFile, generated, telemetryTarget{SinkURL: s.URL, PromPort: port, Interval: interval, Summaries: m.summaries})
	if err != nil {
		return nil, err
	}
	var args []string
	for _, f := range files {
		args = append(args, "--config", f)
	}
	s.reset()
	p, err := startProcess("collector", bin, args, out, filepath.Join(dir, "collector.log"))
	if err != nil {
		return nil, err
	}
	c := &collector{proc: p, sink: s, receiver: recv, promURL: "http://127.0.0.1:" + strconv.Itoa(port) + "/metrics"}
	c.ctx, c.cancel = context.WithCancelCause(ctx)
	go func() {
		select {
		case <-p.exited:
			c.cancel(exitCause(p))
		case <-c.ctx.Done():
		}
	}()
	return c, nil
}

// stop ends the collector with SIGTERM, as a service manager would.
func (c *collector) stop() error {
	defer c.cancel(nil)
	return c.proc.stop(syscall.SIGTERM, 20*time.Second)
}

// waitReady waits for the first export of the receiver's metrics: the probe
// is attached and the pipeline runs.
func (c *collector) waitReady(bound time.Duration) error {
	ctx, cancel := context.WithTimeout(c.ctx, bound)
	defer cancel()
	if _, err := c.sink.next(ctx, 0); err != nil {
		if errors.Is(err, errNoExport) {
			return fmt.Errorf("collector not ready within %v (no metrics arrived); its log:\n%s", bound, c.proc.logTail())
		}
		return err
	}
	return nil
}

// read scrapes the collector's own telemetry for what the pipeline took.
func (c *collector) read(ctx context.Context, cnt counts) (snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	text, err := scrape(ctx, c.promURL)
	if err != nil {
		return snapshot{}, fmt.Errorf("collector telemetry: %w", err)
	}
	s := snapshot{counts: cnt}
	want := map[string]string{"receiver": c.receiver}
	acc, found, err := counterValue(text, acceptedLogRecords, want)
	if err != nil {
		return s, err
	}
	ref, _, err := counterValue(text, refusedLogRecords, want)
	if err != nil {
		return s, err
	}
	s.Accepted, s.Refused, s.HasLogs = uint64(acc), uint64(ref), found
	s.Summaries = c.sink.summaries()
	return s, nil
}

// quiet waits, up to bound, for two exports in a row with the same counts
// and the same telemetry read after each: nothing moved in between, so the
// exported counts and the telemetry describe the same drops. ok is false if
// that did not happen in time; s is then the last reading. Without any
// reading in time it fails.
func (c *collector) quiet(bound time.Duration) (s snapshot, ok bool, err error) {
	ctx, cancel := context.WithTimeout(c.ctx, bound)
	defer cancel()
	cur, _ := c.sink.latest()
	var prev snapshot
	have := false
	for {
		cnt, err := c.sink.next(ctx, cur.Seq)
		if errors.Is(err, errNoExport) && have {
			return prev, false, nil
		}
		if err != nil {
			return prev, false, err
		}
		cur = cnt
		s, err := c.read(ctx, cnt)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && have {
			return prev, false, nil
		}
		if err != nil {
			return prev, false, err
		}
		if have && s.same(prev) {
			return s, true, nil
		}
		prev, have = s, true
	}
}

// drained waits, up to bound, until the collector has dealt with every drop
// counted by a collection after end (the flood's end): each was delivered,
// refused, lost or shed. Without events there is nothing to wait for. It
// returns the process sample taken at that moment.
func (c *collector) drained(base snapshot, end time.Time, events bool, bound time.Duration) (procSample, bool, error) {
	ctx, cancel := context.WithTimeout(c.ctx, bound)
	defer cancel()
	cur, _ := c.sink.latest()
	for !cur.Stamp.After(end) {
		var err error
		if cur, err = c.sink.next(ctx, cur.Seq); err != nil {
			if errors.Is(err, errNoExport) {
				break
			}
			return procSample{}, false, err
		}
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for events {
		s, err := c.read(ctx, cur)
		if err == nil && accounted(base, s) {
			break
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				ps, err := sampleProc(c.proc.pid())
				return ps, false, err
			}
			return procSample{}, false, context.Cause(ctx)
		case <-tick.C:
		}
	}
	ps, err := sampleProc(c.proc.pid())
	return ps, true, err
}

// accounted reports whether every drop counted since base has an outcome:
// a record (the summary records among the accepted ones stand for the
// repeats), refused, lost, shed or repeated.
func accounted(base, s snapshot) bool {
	handled := since(s.Accepted, base.Accepted) - since(s.Summaries.Records, base.Summaries.Records) +
		since(s.Refused, base.Refused) + since(s.Lost, base.Lost) + since(s.Shed, base.Shed) +
		since(s.Summaries.Repeats, base.Summaries.Repeats)
	return handled >= since(s.Packets, base.Packets)
}

// openStdout is where a mode's collector writes its stdout.
func openStdout(m mode, filePath string) (io.Writer, *countingWriter, func() error, error) {
	switch m.stdout {
	case stdoutPipe:
		w := &countingWriter{}
		return w, w, func() error { return nil }, nil
	case stdoutFile:
		f, err := os.Create(filePath)
		if err != nil {
			return nil, nil, nil, err
		}
		return f, nil, f.Close, nil
	}
	return nil, nil, func() error { return nil }, nil
}
