// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/csv"
	"math"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{nan, 5, nan}, 5},
		{[]float64{7}, 7},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if !math.IsNaN(median(nil)) || !math.IsNaN(median([]float64{nan})) {
		t.Error("median of nothing: want NaN")
	}
}

func TestGrouped(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 239594.4: "239,594", 4792192: "4,792,192", -1234567: "-1,234,567"} {
		if got := grouped(in); got != want {
			t.Errorf("grouped(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{1.1411: "1.14", 81.44: "81.4", 1194.2: "1,194"} {
		if got := small(in); got != want {
			t.Errorf("small(%v) = %q, want %q", in, got, want)
		}
	}
}

// sampleRows is one bench round and half of another, as the modes report.
func sampleRows() []row {
	sec := time.Second
	return []row{
		{Round: 1, Mode: "nothing", Sent: 2_000_000, Elapsed: 10 * sec, KernelDrops: 4_000_000},
		{Round: 1, Mode: "tcp_drop", Attached: true, Counts: true, Events: true, Sent: 1_500_000, Elapsed: 10 * sec,
			KernelDrops: 3_000_000, Delivered: 2_000_000, Shed: 1_000_010, MetricTotal: 3_000_010,
			ByCause: map[string]uint64{"NO_SOCKET tcp_v4_rcv": 3_000_004, "QUEUE_PURGE tcp_disconnect": 6},
			CPU:     3 * sec, Wakeups: 20_000, PeakRSS: 75 << 20},
		{Round: 1, Mode: "bpftrace", Attached: true, Sent: 1_000_000, Elapsed: 10 * sec, KernelDrops: 2_000_000,
			MetricTotal: 2_000_100, Wakeups: 10, PeakRSS: 100 << 20},
		{Round: 2, Mode: "nothing", Sent: 2_400_000, Elapsed: 10 * sec, KernelDrops: 4_800_000},
		{Round: 2, Mode: "tcp_drop", Attached: true, Counts: true, Events: true, Sent: 1_200_000, Elapsed: 10 * sec,
			KernelDrops: 2_400_000, Delivered: 2_000_000, Lost: 1, Shed: 399_998, MetricTotal: 2_400_000,
			CPU: 2 * sec, Wakeups: 10_000, PeakRSS: 77 << 20, Notes: []string{"a note"}},
	}
}

func TestLines(t *testing.T) {
	lines := linesOf(sampleRows())
	if got := lines[1].V[fPctOfNothing]; got != 75 {
		t.Errorf("tcp_drop round 1: %v%% of nothing, want 75", got)
	}
	if got := lines[4].V[fPctOfNothing]; got != 50 {
		t.Errorf("tcp_drop round 2: %v%% of nothing (of its own round's 240,000/s), want 50", got)
	}
	if got := lines[1].V[fCPUPerMDrops]; got != 1 {
		t.Errorf("CPU per M drops %v, want 3 s / 3 M = 1", got)
	}
	if got := lines[1].V[fWakeupsPerKEvents]; got != 10 {
		t.Errorf("wakeups per 1k events %v, want 20,000 / 2,000 k = 10", got)
	}
	if got := lines[2].V[fWakeupsPerKEvents]; got != 0.005 {
		t.Errorf("bpftrace sends no events: wakeups per 1k drops %v, want 10 / 2,000 k", got)
	}
	if !math.IsNaN(lines[0].V[fCPUPerMDrops]) || !math.IsNaN(lines[2].V[fDelivered]) {
		t.Error("fields that do not apply must be NaN")
	}
	m := medians(lines)
	if len(m) != 3 || m[0].Mode != "nothing" || m[1].Mode != "tcp_drop" || m[2].Mode != "bpftrace" {
		t.Fatalf("medians: %+v", m)
	}
	if got := m[1].V[fRate]; got != 135_000 {
		t.Errorf("median rate %v, want the mean of the two middle values 150k and 120k", got)
	}
	if got := m[1].V[fPctOfNothing]; got != 62.5 {
		t.Errorf("median %% %v, want median of 75 and 50 (not a ratio of medians)", got)
	}
}

func TestMarkdownTable(t *testing.T) {
	lines := linesOf(sampleRows())
	md := markdownTable(medians(lines), false)
	// Lost is the median of 0 and 1, printed whole.
	want := "| mode | generator pkts/s | % of nothing | kernel drops | delivered | repeated | lost | shed | metric total | CPU s / M drops | wakeups / 1k events | peak RSS MiB |\n" +
		"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n" +
		"| nothing | 220,000 | 100.0% | 4,400,000 | – | – | – | – | – | – | – | – |\n" +
		"| tcp_drop | 135,000 | 62.5% | 2,700,000 | 2,000,000 | 0 | 1 | 700,004 | 2,700,005 | 0.92 | 7.50 | 76 |\n" +
		"| bpftrace | 100,000 | 50.0% | 2,000,000 | – | – | – | – | 2,000,100 | 0.00 | 0.01 | 100 |\n"
	if md != want {
		t.Errorf("median table:\n%s\nwant:\n%s", md, want)
	}
	rounds := markdownTable(lines, true)
	if !strings.Contains(rounds, "| 2 | tcp_drop | 120,000 | 50.0% |") || !strings.HasSuffix(rounds, "| a note |\n") {
		t.Errorf("round table:\n%s", rounds)
	}
}

func TestCheck(t *testing.T) {
	rows := sampleRows()
	if msgs, ok, _ := check(rows[0]); msgs != nil || !ok {
		t.Errorf("nothing attached: %v %v", msgs, ok)
	}
	msgs, ok, _ := check(rows[1])
	if !ok || len(msgs) != 2 ||
		!strings.Contains(msgs[0], "+ 10 drops not in the namespace's Tcp:InSegs (by reason and function: NO_SOCKET tcp_v4_rcv 3,000,004, QUEUE_PURGE tcp_disconnect 6)") ||
		msgs[1] != "delivered 2,000,000 + lost 0 + shed 1,000,010 = metric total 3,000,010: exact" {
		t.Errorf("tcp_drop round 1: %v %q", ok, msgs)
	}
	msgs, ok, _ = check(rows[4])
	if ok || !strings.Contains(msgs[1], "= 2,399,999, metric total 2,400,000: off by -1") {
		t.Errorf("one event unaccounted: %v %q", ok, msgs)
	}
	// Other drops moved the counts while they were read: not checkable to
	// the event, unless a drop of the flood itself has no outcome.
	moved := rows[4]
	moved.CountsMoved, moved.MetricTotal, moved.Shed = true, 2_400_010, 400_005
	if msgs, ok, un := check(moved); !ok || !un || !strings.Contains(msgs[1], "not checkable") {
		t.Errorf("counts moved: %v %v %q", ok, un, msgs)
	}
	moved.Delivered = 1_000_000
	if msgs, ok, _ := check(moved); ok || !strings.Contains(msgs[1], "fewer than the flood's 2,400,000 drops") {
		t.Errorf("flood drops without an outcome: %v %q", ok, msgs)
	}
	// Repeats: the summary records must say as many as the metric.
	repeated := rows[1]
	repeated.Delivered, repeated.Shed, repeated.Repeated, repeated.Summaries, repeated.SummaryRepeats = 200, 0, 3_000_000-200+10, 10, 3_000_000-200+10
	if msgs, ok, _ := check(repeated); !ok || !strings.Contains(msgs[1], "+ repeated 2,999,810 = metric total 3,000,010: exact") {
		t.Errorf("repeats: %v %q", ok, msgs)
	}
	// Resets (a RST per SYN) have events too: the outcomes cover both.
	resets := repeated
	resets.Resets, resets.Repeated, resets.SummaryRepeats = 1_500_000, repeated.Repeated+1_500_000, repeated.Repeated+1_500_000
	if msgs, ok, _ := check(resets); !ok || !strings.Contains(msgs[1], "+ repeated 4,499,810 = metric total 3,000,010 + resets 1,500,000: exact") {
		t.Errorf("resets: %v %q", ok, msgs)
	}
	resets.Resets--
	if _, ok, _ := check(resets); ok {
		t.Error("one reset fewer than the events handled: not exact")
	}
	// The host's own retransmissions and failed connects have records
	// too; a retransmission's record may stand for several segments.
	others := resets
	others.Resets++
	others.Others, others.Delivered = 3, resets.Delivered+3
	if msgs, ok, _ := check(others); !ok || !strings.Contains(msgs[1], "retransmitted segments and failed connects 3: exact") {
		t.Errorf("the host's retransmissions: %v %q", ok, msgs)
	}
	others.Delivered-- // a record of two segments
	if msgs, ok, unchecked := check(others); !ok || !unchecked || !strings.Contains(msgs[1], "several segments") {
		t.Errorf("a retransmission record of two segments: %v %v %q", ok, unchecked, msgs)
	}
	others.Delivered += 2
	if _, ok, _ := check(others); ok {
		t.Error("one record more than the counts: not exact")
	}
	repeated.SummaryRepeats--
	if _, ok, _ := check(repeated); ok {
		t.Error("summary records one repeat short of the metric: not exact")
	}
	short := rows[1]
	short.MetricTotal = 2_999_999
	if msgs, ok, _ := check(short); ok || !strings.Contains(msgs[0], "1 SHORT") {
		t.Errorf("a drop missing from the metric: %v %q", ok, msgs)
	}
	missed := rows[1]
	missed.Missed = 5
	if msgs, ok, _ := check(missed); !ok || !strings.Contains(msgs[1], "no program for 5 kfree_skb calls") {
		t.Errorf("missed calls: %v %q", ok, msgs)
	}
	count := rows[1]
	count.Events, count.Delivered, count.Shed = false, 0, 0
	if msgs, ok, _ := check(count); !ok || !strings.Contains(msgs[1], "count only") {
		t.Errorf("count only: %v %q", ok, msgs)
	}
	if msgs, ok, _ := check(rows[2]); !ok || !strings.Contains(msgs[0], "bpftrace counted 2,000,100 kfree_skb calls = kernel drops 2,000,000 + 100") {
		t.Errorf("bpftrace: %v %q", ok, msgs)
	}
}

func TestReport(t *testing.T) {
	res := results{Title: "tcp_drop bench", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Setup: "setup", Modes: "- modes\n", Rows: sampleRows()}
	md := res.markdown()
	for _, want := range []string{"# tcp_drop bench, 2026-01-02 03:04 UTC", "## Median over the rounds", "## Each round",
		"- round 2, tcp_drop: **NOT EXACT**", "NOT EXACT: see the runs above.", "Columns:"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown has no %q:\n%s", want, md)
		}
	}
	data, err := res.csvBytes()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+5+3 || recs[0][0] != "round" || recs[0][2] != "generator_pkts_per_s" || recs[0][len(recs[0])-1] != "notes" {
		t.Fatalf("csv header or rows: %v", recs)
	}
	if recs[6][0] != "median" || recs[7][1] != "tcp_drop" || recs[7][2] != "135000" || recs[1][5] != "" {
		t.Errorf("csv rows: %v", recs)
	}
	res.Rows[4].CountsMoved, res.Rows[4].MetricTotal, res.Rows[4].Shed = true, 2_400_010, 400_005
	if md := res.markdown(); !strings.Contains(md, "- round 2, tcp_drop: (not quiet)") ||
		!strings.Contains(md, "in 1 of them other drops on the machine kept the counts moving") {
		t.Errorf("a run that could not be checked to the event:\n%s", md)
	}
	res.Rows[4].OtherCPU = 2 * time.Second
	if !strings.Contains(res.markdown(), "**Warning:** in 1 of 5 runs other processes") {
		t.Error("a disturbed run must be warned about")
	}
}

func TestAccounted(t *testing.T) {
	base := snapshot{counts: counts{Packets: 100, Lost: 1}, Accepted: 99}
	now := snapshot{counts: counts{Packets: 200, Lost: 1, Shed: 40}, Accepted: 158}
	if accounted(base, now) {
		t.Error("59 + 40 of 100 drops handled: not yet")
	}
	now.Refused = 1
	if !accounted(base, now) {
		t.Error("59 + 1 + 40 of 100 drops handled: all")
	}
	// Repeats have their outcome in the summary records, which are among
	// the accepted records but stand for no drop of their own.
	now = snapshot{counts: counts{Packets: 200, Lost: 1}, Accepted: 99 + 10 + 2, Summaries: summaries{Records: 2, Repeats: 90}}
	if !accounted(base, now) {
		t.Error("10 records + 90 repeats of 100 drops: all")
	}
	now.Summaries.Repeats = 89
	if accounted(base, now) {
		t.Error("10 records + 89 repeats of 100 drops: not yet (the summaries are no drops)")
	}
	if since(1, 2) != 0 || since(5, 2) != 3 {
		t.Error("since")
	}
}
