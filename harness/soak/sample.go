// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// heapMetric is the collector's Go heap in its own telemetry.
const heapMetric = "otelcol_process_runtime_heap_alloc_bytes"

// sample is one row of the soak's table.
type sample struct {
	at         time.Duration
	rss, heap  uint64 // bytes
	last       collection
	namespaces int64 // made by the churn so far
	processes  int64
	drops      uint64
}

// sample reads the collector's memory now, and what the sink and the churn
// have seen.
func (c *collector) sample(at time.Duration, s *sink, ch *churn) (sample, error) {
	rss, err := c.rssBytes()
	if err != nil {
		return sample{}, err
	}
	heap, err := scrapeGauge(c.telemetry, heapMetric)
	if err != nil {
		return sample{}, fmt.Errorf("the collector's telemetry: %w", err)
	}
	return sample{at: at, rss: rss, heap: heap, last: s.last(),
		namespaces: ch.namespaces.Load(), processes: ch.processes.Load(), drops: ch.drops.Load()}, nil
}

// scrapeGauge reads one unlabelled value from a Prometheus text endpoint
// (the first series of that name).
func scrapeGauge(url, name string) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		fields := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return uint64(v), nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in %s", name, url)
}

func mib(b uint64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) }

func printHeader() {
	fmt.Println("| time | RSS MiB | Go heap MiB | series | owners | uncounted | lost | namespaces | processes | drops made |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
}

func (s sample) print() {
	fmt.Printf("| %s | %s | %s | %d | %d | %d | %d | %d | %d | %d |\n", s.at.Round(time.Second), mib(s.rss), mib(s.heap),
		s.last.series, s.last.resources, s.last.uncounted, s.last.lost, s.namespaces, s.processes, s.drops)
}

// flatWithin is how much the last third's mean RSS may exceed the first
// third's for the curve to count as flat.
const flatWithin = 0.10

// verdict compares the mean RSS and heap of the last third of the samples
// with the first third's.
func verdict(samples []sample) string {
	if len(samples) < 3 {
		return "too few samples to tell whether the memory is flat (run longer, or sample more often)"
	}
	third := len(samples) / 3
	mean := func(ss []sample, f func(sample) uint64) float64 {
		var sum float64
		for _, s := range ss {
			sum += float64(f(s))
		}
		return sum / float64(len(ss))
	}
	rss := func(s sample) uint64 { return s.rss }
	heap := func(s sample) uint64 { return s.heap }
	firstRSS, lastRSS := mean(samples[:third], rss), mean(samples[len(samples)-third:], rss)
	firstHeap, lastHeap := mean(samples[:third], heap), mean(samples[len(samples)-third:], heap)
	growth := lastRSS/firstRSS - 1
	word := "FLAT"
	if growth > flatWithin {
		word = "NOT FLAT"
	}
	return fmt.Sprintf("RSS %s: mean of the last third of the samples %.1f MiB, of the first third %.1f MiB (%+.1f%%; flat means at most %+.0f%%); Go heap %.1f -> %.1f MiB",
		word, lastRSS/(1<<20), firstRSS/(1<<20), 100*growth, 100*flatWithin, firstHeap/(1<<20), lastHeap/(1<<20))
}
