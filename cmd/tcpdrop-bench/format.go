// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// grouped prints an integer with thousands separators: 1,234,567.
func grouped(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// small prints a ratio with the precision its size deserves.
func small(v float64) string {
	switch a := math.Abs(v); {
	case a < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return grouped(v)
}

// cell formats field f of l for a table; "–" where it does not apply.
func cell(l line, f field) string {
	v := l.V[f]
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	switch f {
	case fPctOfNothing:
		// A tenth of a percent: at a set rate the differences are small.
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	case fCPUPerMDrops, fWakeupsPerKEvents:
		return small(v)
	case fPeakRSSMiB:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return grouped(v)
}

// tableFields and their headers: the columns of the Markdown tables.
var tableFields = []field{
	fRate, fPctOfNothing, fKernelDrops, fDelivered, fRepeated, fLost, fShed, fMetricTotal,
	fCPUPerMDrops, fWakeupsPerKEvents, fPeakRSSMiB,
}

var tableHeaders = map[field]string{
	fRate:              "generator pkts/s",
	fPctOfNothing:      "% of nothing",
	fKernelDrops:       "kernel drops",
	fDelivered:         "delivered",
	fRepeated:          "repeated",
	fLost:              "lost",
	fShed:              "shed",
	fMetricTotal:       "metric total",
	fCPUPerMDrops:      "CPU s / M drops",
	fWakeupsPerKEvents: "wakeups / 1k events",
	fPeakRSSMiB:        "peak RSS MiB",
}

// markdownTable prints lines as a Markdown table; withRound adds the round
// and the notes.
func markdownTable(lines []line, withRound bool) string {
	var head, align []string
	if withRound {
		head, align = append(head, "round"), append(align, "---:")
	}
	head, align = append(head, "mode"), append(align, "---")
	for _, f := range tableFields {
		head, align = append(head, tableHeaders[f]), append(align, "---:")
	}
	if withRound {
		head, align = append(head, "notes"), append(align, "---")
	}
	var b strings.Builder
	writeRow := func(cells []string) { fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | ")) }
	writeRow(head)
	writeRow(align)
	for _, l := range lines {
		var cells []string
		if withRound {
			cells = append(cells, strconv.Itoa(l.Round))
		}
		cells = append(cells, l.Mode)
		for _, f := range tableFields {
			cells = append(cells, cell(l, f))
		}
		if withRound {
			cells = append(cells, strings.ReplaceAll(noteText(l.Notes), "|", "/"))
		}
		writeRow(cells)
	}
	return b.String()
}
