// SPDX-License-Identifier: Apache-2.0

package hostload

import (
	"fmt"
	"io"
	"time"
)

// Cell is one host to build.
type Cell struct {
	Namespaces int
	Sockets    int
}

// Engine is a build of the engine to measure: a program that calls
// RunChild (this one, or another build of it).
type Engine struct {
	Name   string
	Binary string
}

// Config says how to measure.
type Config struct {
	Warmup time.Duration // after the engine starts, before measuring
	Window time.Duration // of each measurement, idle and under drops
	Rate   int           // drops a second in the second window
}

// Result is one engine's cost on one host.
type Result struct {
	Cell
	Engine    string
	Build     time.Duration // to build the host
	Idle      float64       // CPU seconds per wall second, idle
	UnderRate float64       // the same under Config.Rate drops a second
	Dropped   float64       // drops a second the nftables rule counted
	Seen      float64       // drops a second the engine handed out
	Owned     float64       // the share of those with their owner named
}

// Measure builds each cell's host once and measures every engine on it,
// one after the other; each result goes to progress as it is found.
func Measure(cells []Cell, engines []Engine, cfg Config, progress io.Writer) ([]Result, error) {
	var out []Result
	for _, c := range cells {
		t := time.Now()
		h, err := Build(c.Namespaces, c.Sockets)
		if err != nil {
			return out, err
		}
		built := time.Since(t)
		for _, e := range engines {
			r, err := measureOne(h, e, cfg)
			if err != nil {
				h.Close()
				return out, fmt.Errorf("%d namespaces, %d sockets, engine %s: %w", c.Namespaces, c.Sockets, e.Name, err)
			}
			r.Cell, r.Engine, r.Build = c, e.Name, built
			fmt.Fprintln(progress, r.line())
			out = append(out, r)
		}
		h.Close()
	}
	return out, nil
}

// measureOne starts engine e on h, lets it warm up, and measures it idle,
// then under drops.
func measureOne(h *Host, e Engine, cfg Config) (Result, error) {
	var r Result
	p, err := startEngine(e.Binary)
	if err != nil {
		return r, err
	}
	defer func() { _ = p.stop() }() // the samples are taken: how the engine ends changes none
	time.Sleep(cfg.Warmup)
	idle, _, err := window(p, cfg.Window)
	if err != nil {
		return r, err
	}
	r.Idle = idle
	if cfg.Rate <= 0 {
		return r, nil
	}
	n0, err := h.Dropped()
	if err != nil {
		return r, err
	}
	d := startDrops(h, cfg.Rate)
	time.Sleep(time.Second) // the first owners are found
	var ds [2]engineSample
	r.UnderRate, ds, err = window(p, cfg.Window)
	derr := d.close()
	if err != nil {
		return r, err
	}
	if derr != nil {
		return r, derr
	}
	n1, err := h.Dropped()
	if err != nil {
		return r, err
	}
	secs := cfg.Window.Seconds()
	r.Dropped = float64(n1-n0) / (secs + 1)
	seen := ds[1].Drops - ds[0].Drops
	r.Seen = float64(seen) / secs
	if seen > 0 {
		r.Owned = float64(ds[1].Owned-ds[0].Owned) / float64(seen)
	}
	return r, nil
}

// window measures the engine's CPU per wall second over d, and returns
// its samples at both ends.
func window(p *engineProc, d time.Duration) (float64, [2]engineSample, error) {
	var s [2]engineSample
	var err error
	if s[0], err = p.sample(); err != nil {
		return 0, s, err
	}
	t := time.Now()
	time.Sleep(d)
	if s[1], err = p.sample(); err != nil {
		return 0, s, err
	}
	return (s[1].CPU - s[0].CPU).Seconds() / time.Since(t).Seconds(), s, nil
}

func (r Result) line() string {
	return fmt.Sprintf("%d namespaces x 5 listeners, %d sockets, engine %s (host built in %v): idle %.2f%% of a core; %.2f%% under %.0f drops/s (engine saw %.0f/s, %.1f%% owned)",
		r.Namespaces, r.Sockets, r.Engine, r.Build.Round(time.Second), 100*r.Idle, 100*r.UnderRate, r.Dropped, r.Seen, 100*r.Owned)
}

// Table writes results as a markdown table.
func Table(w io.Writer, results []Result) {
	fmt.Fprintln(w, "| namespaces × 5 listeners | sockets | engine | idle, % of a core | under drops, % of a core | drops/s (nft) | drops/s seen | owned |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Fprintf(w, "| %d | %d | %s | %.2f | %.2f | %.0f | %.0f | %.1f%% |\n",
			r.Namespaces, r.Sockets, r.Engine, 100*r.Idle, 100*r.UnderRate, r.Dropped, r.Seen, 100*r.Owned)
	}
}
