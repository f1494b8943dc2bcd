// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// results is one bench run: its setting and every round's rows.
type results struct {
	Title   string
	Started time.Time
	Setup   string // the flood and the machine, one line
	Modes   string // what each mode runs, Markdown list
	Rows    []row
	Skipped []string // modes that could not run, and why
}

// legend says what the columns mean and where each number comes from.
const legend = `Columns: **generator pkts/s** is the SYN flood's rate (each SYN is 2 drops: the SYN and the RST the
kernel answers with); **% of nothing** is that rate against the same round's run with nothing attached: what the
monitor costs the CPUs that drop packets. **kernel drops** is Tcp:InSegs of the flood's own network namespace
(every segment received there is dropped). **delivered** is otelcol_receiver_accepted_log_records of the tcp_drop
receiver, less the summary records of repeats; **repeated** is tcp_drop.events.repeated (the summary records'
tcp_drop.repeats add up to it); **lost** and **shed** are tcp_drop.events.lost and tcp_drop.events.shed; **metric total** is
tcp_drop.packets summed over all its data points, over the flood (for bpftrace: every kfree_skb it counted from
attach to exit); the RST the kernel sends for each SYN is also an event at the defaults (resets: true), counted in
tcp_drop.resets, so the exactness lines add the resets to the metric total. **CPU s / M drops** is the monitor process's utime+stime from the flood's start until it had
handled the flood, per million kernel drops; **wakeups / 1k events** is its voluntary context switches (all
threads) over the same time per thousand events it read (per thousand drops for modes that send no events, or
mostly repeats);
**peak RSS** is VmHWM. Medians are taken column by column over the rounds.`

func (res results) markdown() string {
	lines := linesOf(res.Rows)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s, %s\n\n%s\n\n", res.Title, res.Started.Format("2006-01-02 15:04 MST"), res.Setup)
	b.WriteString(res.Modes + "\n")
	if n := res.disturbedRuns(); n > 0 {
		fmt.Fprintf(&b, "**Warning:** in %d of %d runs other processes used more than a tenth of a CPU during the flood "+
			"(see the notes): the machine was not quiet, and the rates say less. Run again on a quiet machine.\n\n", n, len(res.Rows))
	}
	b.WriteString("## Median over the rounds\n\n")
	b.WriteString(markdownTable(medians(lines), false))
	b.WriteString("\n## Each round\n\n")
	b.WriteString(markdownTable(lines, true))
	b.WriteString("\n## Exactness\n\n")
	msgs, all, n, unchecked := res.exactness()
	for _, m := range msgs {
		b.WriteString("- " + m + "\n")
	}
	switch {
	case n == 0:
		b.WriteString("\nNo monitor ran, nothing to check.\n")
	case !all:
		b.WriteString("\nNOT EXACT: see the runs above.\n")
	case unchecked > 0:
		fmt.Fprintf(&b, "\nEvery drop of the flood is in the metric and has an outcome in all %d runs; in %d of them other "+
			"drops on the machine kept the counts moving, so their sums could not be checked to the event.\n", n, unchecked)
	default:
		fmt.Fprintf(&b, "\nEvery run is exact: each drop of the flood is in the metric, and each counted drop was delivered, lost or shed (%d runs).\n", n)
	}
	for _, s := range res.Skipped {
		b.WriteString("\nSkipped: " + s + "\n")
	}
	b.WriteString("\n" + legend + "\n")
	return b.String()
}

// exactness is one message per monitored run, whether all are exact, how
// many were checked, and how many of those could not be to the event.
func (res results) exactness() (msgs []string, all bool, checked, unchecked int) {
	all = true
	for _, r := range res.Rows {
		m, ok, un := check(r)
		if len(m) == 0 {
			continue
		}
		checked++
		all = all && ok
		verdict := ""
		switch {
		case !ok:
			verdict = " **NOT EXACT**"
		case un:
			unchecked++
			verdict = " (not quiet)"
		}
		msgs = append(msgs, fmt.Sprintf("round %d, %s:%s %s", r.Round, r.Mode, verdict, strings.Join(m, "; ")))
	}
	return msgs, all, checked, unchecked
}

// csvBytes is every round's line, then the medians (round "median").
func (res results) csvBytes() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := append([]string{"round", "mode"}, fieldNames[:]...)
	if err := w.Write(append(head, "notes")); err != nil {
		return nil, err
	}
	lines := linesOf(res.Rows)
	write := func(round string, l line) error {
		rec := []string{round, l.Mode}
		for _, v := range l.V {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				rec = append(rec, "")
			} else {
				rec = append(rec, strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
		return w.Write(append(rec, noteText(l.Notes)))
	}
	for _, l := range lines {
		if err := write(strconv.Itoa(l.Round), l); err != nil {
			return nil, err
		}
	}
	for _, l := range medians(lines) {
		if err := write("median", l); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// save writes the Markdown and the CSV into dir, named by prefix.
func (res results) save(dir, prefix string) (mdPath, csvPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	mdPath = filepath.Join(dir, prefix+".md")
	csvPath = filepath.Join(dir, prefix+".csv")
	if err := os.WriteFile(mdPath, []byte(res.markdown()), 0o644); err != nil {
		return "", "", err
	}
	data, err := res.csvBytes()
	if err != nil {
		return "", "", err
	}
	return mdPath, csvPath, os.WriteFile(csvPath, data, 0o644)
}

// disturbedRuns counts the runs during which other processes used CPU.
func (res results) disturbedRuns() int {
	n := 0
	for _, r := range res.Rows {
		if disturbed(r.OtherCPU, r.Elapsed) {
			n++
		}
	}
	return n
}
