// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// run starts the sink and the collector, churns for o.duration while it
// samples, and prints the table and the verdict.
func run(ctx context.Context, o options) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	s, err := startSink()
	if err != nil {
		return err
	}
	defer s.close()
	dir, err := os.MkdirTemp("", "tcpdrop-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c, err := startCollector(o, dir, s.url)
	if err != nil {
		return err
	}
	// The last line stops it and reports how; this stop is for the early returns.
	defer func() { _ = c.stop() }()
	if err := s.waitExport(time.Minute); err != nil {
		return fmt.Errorf("%w; the collector's log:\n%s", err, c.logTail())
	}
	fmt.Printf("collector pid %d; churn for %v (%d client processes a second; a namespace with a server every %v, each for %v), a sample every %v, series_expiry %v\n\n",
		c.pid(), o.duration, o.clientsPerSec, o.every, o.lifetime, o.sample, o.seriesExpiry)

	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	if o.clientsPerSec < 1 || o.every <= 0 || o.lifetime <= 0 {
		return fmt.Errorf("-clients must be at least 1, -every and -lifetime positive")
	}
	ch := &churn{self: self, clientsPerSec: o.clientsPerSec, every: o.every, lifetime: o.lifetime}
	churned := make(chan error, 1)
	go func() { churned <- ch.run(ctx) }()

	samples, err := sampleUntilDone(ctx, c, s, ch, o.sample)
	if err != nil {
		return err
	}
	if err := <-churned; err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("churn: %w", err)
	}
	fmt.Println()
	fmt.Println(ch.summary())
	fmt.Println(verdict(samples))
	return c.stop()
}

// sampleUntilDone prints the table's header and a sample of the collector
// at once, every interval and when ctx ends; it fails when the collector
// exits first.
func sampleUntilDone(ctx context.Context, c *collector, s *sink, ch *churn, interval time.Duration) ([]sample, error) {
	start := time.Now()
	var samples []sample
	printHeader()
	take := func() error {
		sm, err := c.sample(time.Since(start), s, ch)
		if err != nil {
			return err
		}
		samples = append(samples, sm)
		sm.print()
		return nil
	}
	if err := take(); err != nil {
		return nil, err
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-ticker.C:
		case <-c.exited:
			return nil, fmt.Errorf("the collector exited during the soak; its log:\n%s", c.logTail())
		}
		if err := take(); err != nil {
			return nil, err
		}
	}
	return samples, nil
}
