// SPDX-License-Identifier: Apache-2.0

package main

import (
	"flag"
	"fmt"
	"io"
	"time"
)

// options is the command line, parsed.
type options struct {
	rounds    int
	duration  time.Duration
	rate      int
	family    int
	workers   int
	out       string
	compare   bool
	collector string // the binary, built with make build
	modesDir  string // the -compare configs
	floor     string // the TCP-check floor's object file
	limit     int    // max_log_records_per_second of the bench's collectors; -1 = the receiver's default
	settle    time.Duration
	interval  time.Duration // collection_interval of the collectors; 0: collectionInterval (tests set less)
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("tcpdrop-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; each runs every mode once, in turn")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "flood length of each run")
	fs.IntVar(&o.rate, "rate", 0, "SYNs per second (0 = as fast as possible); each SYN is 2 drops")
	fs.IntVar(&o.family, "family", 4, "IP version of the flood: 4 or 6")
	fs.IntVar(&o.workers, "workers", 1, "sending threads of the generator")
	fs.StringVar(&o.out, "out", "benchmark_results", "directory for the Markdown and CSV results")
	fs.BoolVar(&o.compare, "compare", false, "run the seed's four modes (testdata/modes) instead of the bench modes")
	fs.StringVar(&o.collector, "collector", "_build/otelcol-tcpdrop", "collector binary, built with 'make build'")
	fs.StringVar(&o.modesDir, "modes", "testdata/modes", "directory of the -compare configs")
	fs.StringVar(&o.floor, "floor", floorObject, "the TCP-check floor's object (bpf2go's, for internal/probe's benchmarks)")
	fs.IntVar(&o.limit, "limit", -1, "max_log_records_per_second of the tcp_drop modes (-1 = the receiver's default, 0 = no limit)")
	fs.DurationVar(&o.settle, "settle", 30*time.Second, "longest wait after a flood for the counts to settle")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: tcpdrop-bench [flags]   (as root)\n\n"+
			"Floods a closed port in a network namespace of its own and measures, in alternating rounds,\n"+
			"the flood with nothing attached, with the TCP-check floor, with the tcp_drop collector (count-only,\n"+
			"its defaults, a record per drop with batched and per-event wakeups)\n"+
			"and with bpftrace; with -compare, with the seed's four modes instead.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, o.validate()
}

func (o options) validate() error {
	switch {
	case o.rounds < 1 || o.rounds > 100:
		return fmt.Errorf("-rounds %d: want 1-100", o.rounds)
	case o.duration <= 0 || o.duration > time.Hour:
		return fmt.Errorf("-duration %v: want more than 0, at most 1h", o.duration)
	case o.rate < 0:
		return fmt.Errorf("-rate %d: want 0 (as fast as possible) or more", o.rate)
	case o.family != 4 && o.family != 6:
		return fmt.Errorf("-family %d: want 4 or 6", o.family)
	case o.workers < 1 || o.workers > 64:
		return fmt.Errorf("-workers %d: want 1-64", o.workers)
	case o.out == "":
		return fmt.Errorf("-out: want a directory")
	case o.limit < -1:
		return fmt.Errorf("-limit %d: want -1 (default), 0 (no limit) or more", o.limit)
	case o.settle < time.Second || o.settle > 10*time.Minute:
		return fmt.Errorf("-settle %v: want 1s-10m", o.settle)
	}
	return nil
}
