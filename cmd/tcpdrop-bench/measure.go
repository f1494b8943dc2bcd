// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/dropgen"
)

// Bounds on every wait of a run.
const (
	readyBound    = 60 * time.Second // collector start: the probe loads, first export
	attachBound   = 60 * time.Second // bpftrace: compile and attach
	baselineBound = 10 * time.Second // a quiet reading before the flood
)

// runner runs one mode's flood at a time.
type runner struct {
	opts      options
	collector string // binary
	bpftrace  string // binary, "" when not installed
	sink      *sink
	tmp       string // configs and logs of each run
	stamp     string // names the files of this bench run under -out
}

// flood sends the planned flood in a namespace of its own, and measures
// the CPU that other processes than the bench and monitor used meanwhile.
func (rn *runner) flood(ctx context.Context, monitor int) (floodResult, error) {
	skip := map[int]bool{os.Getpid(): true, monitor: true}
	before := otherCPU(skip)
	rep, err := dropgen.Flood(ctx, dropgen.Options{
		Family: rn.opts.family, Rate: rn.opts.rate, Duration: rn.opts.duration, Workers: rn.opts.workers,
	})
	return floodResult{rep, otherCPUDelta(before, otherCPU(skip))}, err
}

// floodResult is the generator's report and the others' CPU meanwhile.
type floodResult struct {
	dropgen.Report
	others time.Duration
}

// disturbed is how much CPU others may use during a flood before the bench
// warns: a tenth of one CPU.
func disturbed(others, flood time.Duration) bool { return others > flood/10 }

// fillFlood copies the generator's report into r.
func fillFlood(r *row, fr floodResult) {
	rep := fr.Report
	r.OtherCPU = fr.others
	if disturbed(fr.others, rep.Elapsed) {
		r.Notes = append(r.Notes, fmt.Sprintf("other processes used %.1f CPU s during the flood", fr.others.Seconds()))
	}
	r.Sent, r.Elapsed = rep.Sent, rep.Elapsed
	if rep.Kernel != nil {
		r.KernelDrops = rep.Kernel.TCPInSegs
	} else {
		r.Notes = append(r.Notes, "the namespace's kernel counters could not be read")
	}
	if rep.Errors > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("generator: %d send errors", rep.Errors))
	}
}

// run measures mode m once.
func (rn *runner) run(ctx context.Context, round int, m mode) (row, error) {
	r := row{Round: round, Mode: m.name}
	dir := filepath.Join(rn.tmp, fmt.Sprintf("r%d-%s", round, m.slug()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return r, err
	}
	var err error
	switch m.attach {
	case attachNothing:
		var fr floodResult
		fr, err = rn.flood(ctx, 0)
		fillFlood(&r, fr)
	case attachFloor:
		err = rn.runFloor(ctx, &r)
	case attachCollector:
		err = rn.runCollector(ctx, dir, m, &r)
	case attachBpftrace:
		err = rn.runBpftrace(ctx, dir, &r)
	}
	return r, err
}

// runCollector starts the collector in mode m, measures it through one
// flood and stops it, recording its output's size.
func (rn *runner) runCollector(ctx context.Context, dir string, m mode, r *row) (err error) {
	r.Attached, r.Counts, r.Events = true, true, m.events
	out, counter, closeOut, err := openStdout(m, rn.outputFile(m))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeOut(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the collector's output: %w", cerr)
		}
	}()
	c, err := startCollector(ctx, rn.collector, dir, m, rn.sink, rn.opts.interval, out)
	if err != nil {
		return err
	}
	defer func() {
		if serr := c.stop(); serr != nil && err == nil {
			err = fmt.Errorf("stopping the collector: %w", serr)
		}
		if counter != nil {
			r.OutputBytes, r.OutputLines = counter.bytes.Load(), counter.lines.Load()
		}
		if m.stdout == stdoutFile {
			if st, serr := os.Stat(rn.outputFile(m)); serr == nil {
				r.OutputBytes = uint64(st.Size())
			}
		}
	}()
	if err := c.waitReady(readyBound); err != nil {
		return err
	}
	return rn.measureCollector(ctx, c, m, r)
}

// measureCollector floods between a quiet baseline and the settled counts,
// and fills r with the collector's cost and what its telemetry counted.
func (rn *runner) measureCollector(ctx context.Context, c *collector, m mode, r *row) error {
	base, ok, err := c.quiet(baselineBound)
	if err != nil {
		return err
	}
	if !ok {
		r.CountsMoved = true
		r.Notes = append(r.Notes, "drops before the flood: the baseline was not quiet")
	}
	before, err := sampleProc(c.proc.pid())
	if err != nil {
		return err
	}
	fr, ferr := rn.flood(ctx, c.proc.pid())
	end := time.Now()
	fillFlood(r, fr)
	if ferr != nil {
		return ferr
	}
	after, ok, err := c.drained(base, end, m.events, rn.opts.settle)
	if err != nil {
		return err
	}
	if !ok {
		r.Notes = append(r.Notes, fmt.Sprintf("events still unaccounted %v after the flood", rn.opts.settle))
	}
	final, ok, err := c.quiet(rn.opts.settle)
	if err != nil {
		return err
	}
	if !ok {
		r.CountsMoved = true
		r.Notes = append(r.Notes, fmt.Sprintf("counts still moving %v after the flood", rn.opts.settle))
	}
	if m.events && !final.HasLogs {
		r.Notes = append(r.Notes, "the collector's telemetry has no "+acceptedLogRecords)
	}
	d := after.sub(before)
	r.CPU, r.Wakeups, r.PeakRSS = d.CPU, d.Voluntary, d.PeakRSS
	if last, err := sampleProc(c.proc.pid()); err == nil {
		r.PeakRSS = last.PeakRSS // the high-water mark after the counts settled
	}
	fillCounts(r, base, final)
	return nil
}

// fillCounts fills r with how much each of the collector's counts grew
// from base to final.
func fillCounts(r *row, base, final snapshot) {
	r.Summaries = since(final.Summaries.Records, base.Summaries.Records)
	r.SummaryRepeats = since(final.Summaries.Repeats, base.Summaries.Repeats)
	r.Delivered = since(final.Accepted, base.Accepted) - r.Summaries
	r.Refused = since(final.Refused, base.Refused)
	r.Lost = since(final.Lost, base.Lost)
	r.Shed = since(final.Shed, base.Shed)
	r.Filtered = since(final.Filtered, base.Filtered)
	r.Repeated = since(final.Repeated, base.Repeated)
	r.Uncounted = since(final.Uncounted, base.Uncounted)
	r.Missed = since(final.Missed, base.Missed)
	r.MetricTotal = since(final.Packets, base.Packets)
	r.Resets = since(final.Resets, base.Resets)
	r.Others = since(final.Others, base.Others)
	r.ByCause = subCauses(final.ByCause, base.ByCause)
}

func (rn *runner) runBpftrace(ctx context.Context, dir string, r *row) error {
	r.Attached = true
	if rn.bpftrace == "" {
		return errNoBpftrace
	}
	b, err := startBpftrace(ctx, rn.bpftrace, dir, attachBound)
	if err != nil {
		return err
	}
	before, err := sampleProc(b.proc.pid())
	if err != nil {
		_, berr := b.finish()
		return errors.Join(err, berr)
	}
	fr, ferr := rn.flood(ctx, b.proc.pid())
	fillFlood(r, fr)
	after, serr := sampleProc(b.proc.pid())
	total, berr := b.finish()
	if err := errors.Join(ferr, serr, berr); err != nil {
		return err
	}
	d := after.sub(before)
	r.CPU, r.Wakeups, r.PeakRSS = d.CPU, d.Voluntary, d.PeakRSS
	r.MetricTotal = total
	return nil
}

// errNoBpftrace skips the bpftrace mode on a machine without it.
var errNoBpftrace = errors.New("bpftrace is not installed (apt-get install bpftrace): mode skipped")

// outputFile is where file mode's drops go: one file per bench run,
// rewritten each round.
func (rn *runner) outputFile(m mode) string {
	return filepath.Join(rn.opts.out, fmt.Sprintf("%s-%s-drops.txt", rn.stamp, m.slug()))
}

// subCauses is now - before, cause by cause, without the causes that did
// not move.
func subCauses(now, before map[string]uint64) map[string]uint64 {
	d := map[string]uint64{}
	for k, v := range now {
		if v > before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}

// since is how much a cumulative count grew; never negative.
func since(now, before uint64) uint64 {
	if now < before {
		return 0
	}
	return now - before
}
