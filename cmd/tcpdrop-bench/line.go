// SPDX-License-Identifier: Apache-2.0

package main

import (
	"math"
	"strings"
)

// field is one number a line of results has; NaN where it does not apply.
type field int

const (
	fRate field = iota
	fPctOfNothing
	fKernelDrops
	fDelivered
	fRefused
	fLost
	fShed
	fUncounted
	fMetricTotal
	fCPUPerMDrops
	fWakeupsPerKEvents
	fPeakRSSMiB
	fSent
	fElapsed
	fCPU
	fWakeups
	fOutputBytes
	fOutputLines
	fOtherCPU
	fMissed
	fRepeated
	fSummaries
	nFields
)

// fieldNames name the fields in the CSV.
var fieldNames = [nFields]string{
	"generator_pkts_per_s", "pct_of_nothing", "kernel_drops", "delivered", "refused", "lost", "shed",
	"uncounted", "metric_total", "cpu_s_per_million_drops", "wakeups_per_1k_events", "peak_rss_mib",
	"sent", "elapsed_s", "cpu_s", "wakeups", "output_bytes", "output_lines",
	"other_processes_cpu_s", "kernel_missed", "repeated", "summary_records",
}

// line is a row as numbers: one round's, or the median of the rounds
// (Round 0).
type line struct {
	Round int
	Mode  string
	V     [nFields]float64
	Notes []string
}

// toLine derives the numbers of r; nothing is the generator's rate with
// nothing attached in the same round (0 if unknown).
func toLine(r row, nothing float64) line {
	l := line{Round: r.Round, Mode: r.Mode, Notes: r.Notes}
	for i := range l.V {
		l.V[i] = math.NaN()
	}
	l.V[fRate] = r.Rate()
	l.V[fPctOfNothing] = 100 * ratio(r.Rate(), nothing)
	l.V[fKernelDrops] = float64(r.KernelDrops)
	l.V[fSent] = float64(r.Sent)
	l.V[fElapsed] = r.Elapsed.Seconds()
	l.V[fOtherCPU] = r.OtherCPU.Seconds()
	if !r.Attached {
		return l
	}
	l.V[fCPU] = r.CPU.Seconds()
	l.V[fWakeups] = float64(r.Wakeups)
	l.V[fPeakRSSMiB] = float64(r.PeakRSS) / (1 << 20)
	l.V[fCPUPerMDrops] = ratio(r.CPU.Seconds(), float64(r.KernelDrops)/1e6)
	l.V[fWakeupsPerKEvents] = ratio(float64(r.Wakeups), float64(r.eventBase())/1000)
	l.V[fMetricTotal] = float64(r.MetricTotal)
	if r.Counts {
		l.V[fLost] = float64(r.Lost)
		l.V[fShed] = float64(r.Shed)
		l.V[fUncounted] = float64(r.Uncounted)
		l.V[fMissed] = float64(r.Missed)
		if r.Events {
			l.V[fDelivered] = float64(r.Delivered)
			l.V[fRefused] = float64(r.Refused)
			l.V[fRepeated] = float64(r.Repeated)
			l.V[fSummaries] = float64(r.Summaries)
		}
	}
	if r.OutputBytes > 0 {
		l.V[fOutputBytes] = float64(r.OutputBytes)
	}
	if r.OutputLines > 0 {
		l.V[fOutputLines] = float64(r.OutputLines)
	}
	return l
}

// linesOf turns rows into lines, each with the rate of nothing attached in
// its own round.
func linesOf(rows []row) []line {
	nothing := map[int]float64{}
	for _, r := range rows {
		if !r.Attached {
			nothing[r.Round] = r.Rate()
		}
	}
	out := make([]line, 0, len(rows))
	for _, r := range rows {
		out = append(out, toLine(r, nothing[r.Round]))
	}
	return out
}

// medians is one line per mode, in the order modes first appear, each field
// the median over the rounds (notes stay with the rounds).
func medians(lines []line) []line {
	var order []string
	byMode := map[string][]line{}
	for _, l := range lines {
		if _, ok := byMode[l.Mode]; !ok {
			order = append(order, l.Mode)
		}
		byMode[l.Mode] = append(byMode[l.Mode], l)
	}
	out := make([]line, 0, len(order))
	for _, mode := range order {
		m := line{Mode: mode}
		for f := range m.V {
			vs := make([]float64, 0, len(byMode[mode]))
			for _, l := range byMode[mode] {
				vs = append(vs, l.V[f])
			}
			m.V[f] = median(vs)
		}
		out = append(out, m)
	}
	return out
}

// noteText joins notes for a table cell or a CSV field.
func noteText(notes []string) string { return strings.Join(notes, "; ") }
