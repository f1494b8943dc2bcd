// SPDX-License-Identifier: Apache-2.0

// Command tcpdrop-flood makes the kernel drop TCP packets at a known rate:
// it sends SYNs (or RSTs) to a closed port on loopback inside a network
// namespace it creates, and reports exactly what it sent.
//
//	tcpdrop-flood -family 4 -rate 100000 -duration 30s
//	tcpdrop-flood -family 6 -count 1000000 -workers 2 -json
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
	"time"

	"github.com/tcpdrop/tcpdrop/harness/dropgen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the command line, parsed.
type config struct {
	opts dropgen.Options
	json bool
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("tcpdrop-flood", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.opts.Family, "family", 4, "IP version: 4 or 6")
	fs.IntVar(&c.opts.Port, "port", dropgen.DefaultPort, "closed destination port")
	fs.IntVar(&c.opts.Rate, "rate", 0, "packets per second over all workers (0 = as fast as possible)")
	fs.DurationVar(&c.opts.Duration, "duration", 10*time.Second, "how long to send (0 = until -count or Ctrl-C)")
	fs.IntVar(&c.opts.Count, "count", 0, "packets to send (0 = no limit); without -duration, the count alone ends the run")
	fs.IntVar(&c.opts.Workers, "workers", 1, "sending threads, one raw socket each")
	fs.IntVar(&c.opts.Batch, "batch", dropgen.DefaultBatch, "packets per sendmmsg call")
	fs.DurationVar(&c.opts.Slack, "slack", dropgen.DefaultSlack, "with -rate: how late a packet may leave before it is skipped and counted behind")
	kind := fs.String("kind", "syn", "segment: syn (2 NO_SOCKET drops each: the SYN and the RST it provokes) or rst (1 drop, no answer)")
	fs.BoolVar(&c.json, "json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: tcpdrop-flood [flags]\n\n"+
			"Sends TCP segments to a closed port on loopback inside a new network namespace\n"+
			"(needs root) and reports what it sent and what the namespace's kernel counted.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if c.opts.Kind, err = dropgen.ParseKind(*kind); err != nil {
		return c, err
	}
	// A count on its own should not be cut short by the default duration.
	setDuration := false
	fs.Visit(func(f *flag.Flag) { setDuration = setDuration || f.Name == "duration" })
	if c.opts.Count > 0 && !setDuration {
		c.opts.Duration = 0
	}
	return c, c.opts.Validate()
}

func run(args []string, stdout, stderr io.Writer) int {
	c, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "tcpdrop-flood:", err)
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "tcpdrop-flood: must run as root: it creates a network namespace and raw sockets")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once
	}()

	r, err := dropgen.Flood(ctx, c.opts)
	if r.Elapsed > 0 || r.Sent > 0 {
		if perr := printReport(stdout, r, c.json); perr != nil {
			fmt.Fprintln(stderr, "tcpdrop-flood:", perr)
			return 1
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "tcpdrop-flood:", err)
		return 1
	}
	return 0
}
