// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// runBench runs every round and returns what was measured, also when it
// fails part way (the rows so far).
func runBench(ctx context.Context, o options, progress io.Writer) (results, error) {
	res := results{Title: "tcp_drop bench", Started: time.Now()}
	if o.compare {
		res.Title = "tcp_drop compare: the seed's four modes"
	}
	bin := o.collector
	if err := checkBinary(bin); err != nil {
		return res, err
	}
	modes := benchModes(o.limit)
	if o.compare {
		modes = compareModes(o.modesDir)
	}
	bpftrace, _ := exec.LookPath("bpftrace")

	s, err := startSink()
	if err != nil {
		return res, err
	}
	defer s.Close()
	tmp, err := os.MkdirTemp("", "tcpdrop-bench-")
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return res, err
	}
	rn := &runner{opts: o, collector: bin, bpftrace: bpftrace, sink: s, tmp: tmp, stamp: stampOf(res)}
	res.Setup = setupLine(o, bin)
	res.Modes = describeModes(modes, o, rn)

	if err := rn.runRounds(ctx, modes, &res, progress); err != nil {
		return res, err
	}
	os.RemoveAll(tmp)
	return res, nil
}

// runRounds runs every mode once a round, in order, adding each row to res
// and skipping a mode its machine cannot run from then on. It stops at the
// first failure, keeping the failed row when it says something.
func (rn *runner) runRounds(ctx context.Context, modes []mode, res *results, progress io.Writer) error {
	skipped := map[string]bool{}
	for round := 1; round <= rn.opts.rounds; round++ {
		for _, m := range modes {
			if skipped[m.name] {
				continue
			}
			fmt.Fprintf(progress, "round %d/%d: %s ... ", round, rn.opts.rounds, m.name)
			r, err := rn.run(ctx, round, m)
			if errors.Is(err, errNoBpftrace) {
				fmt.Fprintln(progress, "skipped:", err)
				skipped[m.name] = true
				res.Skipped = append(res.Skipped, m.name+": "+err.Error())
				continue
			}
			if err != nil {
				fmt.Fprintln(progress, "failed")
				if len(r.Notes) > 0 || r.Sent > 0 {
					res.Rows = append(res.Rows, r)
				}
				return fmt.Errorf("round %d, %s: %w (configs and logs kept in %s)", round, m.name, err, rn.tmp)
			}
			fmt.Fprintf(progress, "%s pkts/s, %s kernel drops\n", grouped(r.Rate()), grouped(float64(r.KernelDrops)))
			res.Rows = append(res.Rows, r)
		}
	}
	return nil
}

// stampOf names a run's files: bench-20260125-150405.
func stampOf(res results) string {
	kind := "bench"
	if strings.HasPrefix(res.Title, "tcp_drop compare") {
		kind = "compare"
	}
	return kind + "-" + res.Started.Format("20060102-150405")
}

func setupLine(o options, bin string) string {
	rate := "as fast as possible"
	if o.rate > 0 {
		rate = grouped(float64(o.rate)) + " SYN/s"
	}
	var u unix.Utsname
	release := "unknown"
	if unix.Uname(&u) == nil {
		release = unix.ByteSliceToString(u.Release[:])
	}
	return fmt.Sprintf("Flood: IPv%d SYNs to a closed port on loopback in a network namespace of its own, %s, %v per run, "+
		"%d sending thread(s); %d round(s), the modes in turn in each. Linux %s, %d CPUs. Collector: %s.",
		o.family, rate, o.duration, o.workers, o.rounds, release, runtime.NumCPU(), bin)
}

func describeModes(modes []mode, o options, rn *runner) string {
	var b strings.Builder
	limit := "the receiver's default max_log_records_per_second (200000)"
	if o.limit >= 0 {
		limit = fmt.Sprintf("max_log_records_per_second %d", o.limit)
	}
	for _, m := range modes {
		fmt.Fprintf(&b, "- **%s**: ", m.name)
		switch {
		case m.attach == attachNothing:
			b.WriteString("the flood alone")
		case m.attach == attachFloor:
			fmt.Fprintf(&b, "`bpf/bench/tcp_check_floor.c` (%s) on the same tracepoint: it reads 10 bytes of each freed packet's IP header to tell TCP from the rest, "+
				"and counts the TCP ones; the floor of any monitor of TCP drops on kfree_skb", floorObject)
		case m.attach == attachBpftrace:
			fmt.Fprintf(&b, "`bpftrace -e '%s'`, counts read at exit (run in a mount namespace of its own with tracefs mounted)", bpftraceProgram)
		case m.configFile == "":
			if m.receiver.CountOnly {
				b.WriteString("the collector, tcp_drop in a metrics pipeline alone (nop exporter): the kernel counts, sends no events\n")
				continue
			}
			fmt.Fprintf(&b, "the collector, tcp_drop in a logs pipeline (nop exporter) and a metrics pipeline, no processors, %s", limit)
			if m.receiver.PerDrop {
				b.WriteString(", log_records_per_key 0: a record per drop")
			} else {
				b.WriteString(", the default log_records_per_key: the rest of each key's drops are repeats, in a summary record per key and collection " +
					"(its logs also go to the bench's OTLP server, which counts the summary records)")
			}
			if m.receiver.WakeupBytes > 0 {
				fmt.Fprintf(&b, ", wakeup_bytes %d: the reader is woken for every event, as the kernel does by default and the seed did", m.receiver.WakeupBytes)
			} else {
				b.WriteString(", batched wakeups (wakeup_bytes default: ring_buffer_size/16)")
			}
		default:
			fmt.Fprintf(&b, "%s: the collector with %s", m.desc, m.configFile)
			switch m.stdout {
			case stdoutPipe:
				b.WriteString(", stdout into a pipe the bench drains (no pty)")
			case stdoutFile:
				fmt.Fprintf(&b, ", stdout to %s", rn.outputFile(m))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\nEvery collector also gets a second --config, merged over its own: collection_interval 1s, an otlp_http " +
		"exporter to the bench's OTLP server added to its metrics pipeline, and its own telemetry on a Prometheus " +
		"endpoint on 127.0.0.1.\n")
	return b.String()
}

// checkBinary fails clearly when the collector is not built.
func checkBinary(bin string) error {
	st, err := os.Stat(bin)
	if err != nil {
		return fmt.Errorf("collector binary: %w (run 'make build')", err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("collector binary %s is not an executable file", bin)
	}
	return nil
}
