// SPDX-License-Identifier: Apache-2.0

// Command soak runs the built collector for a long time on a host where
// processes, sockets and network namespaces come and go, all making drops,
// and samples the collector's memory: its RSS, its Go heap and the number
// of series it reports. It prints the curve as a table and says whether it
// is flat (the last third of the samples against the first). The collector
// runs with the example config, its logs going to the nop exporter and its
// metrics to an OTLP/HTTP sink here; series_expiry is shortened so that
// series of the processes that are gone expire within the soak. Root: the
// collector loads its eBPF program, the churn makes namespaces.
//
//	sudo make soak                         10 minutes
//	sudo make soak SOAK_DURATION=2m        shorter
//	go run ./harness/soak -h               every option
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	if role := os.Getenv(envRole); role != "" {
		os.Exit(runRole(role))
	}
	duration := 10 * time.Minute
	if d := os.Getenv("SOAK_DURATION"); d != "" {
		var err error
		if duration, err = time.ParseDuration(d); err != nil {
			fmt.Fprintf(os.Stderr, "soak: SOAK_DURATION=%q: %v\n", d, err)
			os.Exit(2)
		}
	}
	var o options
	flag.StringVar(&o.collector, "collector", "_build/otelcol-tcpdrop", "the collector binary")
	flag.StringVar(&o.config, "config", "otelcol-config.example.yaml", "the collector's config, which the soak's overlay amends")
	flag.DurationVar(&o.duration, "duration", duration, "how long the churn runs (default: $SOAK_DURATION, else 10m)")
	flag.DurationVar(&o.sample, "sample", 20*time.Second, "time between two samples")
	flag.DurationVar(&o.seriesExpiry, "series-expiry", 2*time.Minute, "the receiver's series_expiry: series of processes gone expire after it")
	flag.IntVar(&o.clientsPerSec, "clients", 20, "client processes a second, each making 5 drops")
	flag.DurationVar(&o.every, "every", time.Second, "a new network namespace (and server) this often")
	flag.DurationVar(&o.lifetime, "lifetime", 15*time.Second, "how long a namespace and its server live")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "soak: the collector loads an eBPF program and the churn makes network namespaces: run it as root (sudo make soak)")
		os.Exit(1)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// options are the soak's flags.
type options struct {
	collector, config string
	duration, sample  time.Duration
	seriesExpiry      time.Duration
	clientsPerSec     int
	every, lifetime   time.Duration
}
