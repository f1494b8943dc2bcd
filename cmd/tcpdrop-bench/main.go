// SPDX-License-Identifier: Apache-2.0

// Command tcpdrop-bench measures what watching TCP drops costs under a SYN
// flood, on one machine and in one run: the flood's rate with nothing
// attached, with the TCP-check floor (the least a monitor of TCP drops on
// kfree_skb does), with the tcp_drop collector (counting only, at its
// defaults, and with a record per drop, with batched wakeups and one wakeup
// per event) and with bpftrace, in alternating rounds; the collector's
// counts are checked against the kernel's own. With -compare it runs the seed's
// four modes (testdata/modes) instead. It must run as root, from the
// repository's root, with the collector built (make build):
//
//	sudo make bench                                  # 3 rounds of 10 s floods at full rate
//	sudo make bench BENCH_ARGS='-rate 100000 -duration 30s -rounds 1'
//	sudo make compare
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "tcpdrop-bench:", err)
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "tcpdrop-bench: must run as root: it loads eBPF programs and creates network namespaces (try: sudo make bench)")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	res, err := runBench(ctx, o, stderr)
	code := 0
	if err != nil {
		fmt.Fprintln(stderr, "tcpdrop-bench:", err)
		code = 1
	}
	if len(res.Rows) == 0 {
		return code
	}
	fmt.Fprint(stdout, res.markdown())
	name := stampOf(res)
	if err != nil {
		name += "-partial"
	}
	md, csv, serr := res.save(o.out, name)
	if serr != nil {
		fmt.Fprintln(stderr, "tcpdrop-bench: saving results:", serr)
		return 1
	}
	fmt.Fprintf(stderr, "results: %s, %s\n", md, csv)
	if _, all, _, _ := res.exactness(); !all && code == 0 {
		code = 3
	}
	return code
}
