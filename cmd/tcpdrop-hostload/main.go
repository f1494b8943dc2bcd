// SPDX-License-Identifier: Apache-2.0

// Command tcpdrop-hostload measures the collector engine's own cost on a
// busy host it builds (harness/hostload): N network namespaces × 5
// listeners, S TCP sockets held by 50 processes; the CPU of the process
// running only the engine, per second of wall time, idle and under a rate
// of drops to an owned socket. Needs root.
//
//	tcpdrop-hostload -namespaces 20,200,1000 -sockets 0,20000,100000
//	tcpdrop-hostload -namespaces 200 -sockets 20000 -engine before=/tmp/hostload-main
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/hostload"
)

func main() {
	hostload.RunChild()
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("tcpdrop-hostload", flag.ContinueOnError)
	nss := fs.String("namespaces", "20,200,1000", "comma-separated numbers of network namespaces (5 listeners each)")
	socks := fs.String("sockets", "0,20000,100000", "comma-separated numbers of TCP sockets held by 50 processes")
	var cfg hostload.Config
	fs.DurationVar(&cfg.Warmup, "warmup", 15*time.Second, "after the engine starts, before measuring: past its first collection (10 s), a one-time dump of every namespace")
	fs.DurationVar(&cfg.Window, "window", 10*time.Second, "length of each measurement (idle, then under drops)")
	fs.IntVar(&cfg.Rate, "rate", 1000, "drops a second in the second measurement (0: idle only)")
	var engines []hostload.Engine
	fs.Func("engine", "name=path: also measure the engine of another build of this command, on the same hosts (repeatable)", func(s string) error {
		name, path, ok := strings.Cut(s, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("want name=path, got %q", s)
		}
		engines = append(engines, hostload.Engine{Name: name, Binary: path})
		return nil
	})
	name := fs.String("name", "this", "the name of this build's engine in the table")
	only := fs.Bool("only-others", false, "measure only the -engine builds, not this one")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ns, err := ints(*nss)
	if err == nil {
		var ss []int
		if ss, err = ints(*socks); err == nil {
			var cells []hostload.Cell
			for _, n := range ns {
				for _, s := range ss {
					cells = append(cells, hostload.Cell{Namespaces: n, Sockets: s})
				}
			}
			err = measure(cells, engines, *name, *only, cfg)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpdrop-hostload:", err)
		return 1
	}
	return 0
}

func measure(cells []hostload.Cell, others []hostload.Engine, name string, only bool, cfg hostload.Config) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var engines []hostload.Engine
	if !only {
		engines = append(engines, hostload.Engine{Name: name, Binary: self})
	}
	engines = append(engines, others...)
	if len(engines) == 0 {
		return fmt.Errorf("no engine to measure")
	}
	results, err := hostload.Measure(cells, engines, cfg, os.Stderr)
	hostload.Table(os.Stdout, results)
	return err
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}
