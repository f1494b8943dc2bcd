// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"sort"
	"strings"
)

// check says, for one row, how the counts agree: the receiver's metric
// against the kernel's own counter of the flood's namespace, and every
// counted drop against its outcome (delivered, refused, lost or shed).
// exact is false when a drop is missing or has no outcome; extra drops
// elsewhere on the machine do not make a row inexact, they are reported.
// unchecked is set when the outcomes could not be checked to the event
// because other drops moved the counts while they were read; every drop of
// the flood must still have an outcome.
func check(r row) (msgs []string, exact, unchecked bool) {
	switch {
	case !r.Attached:
		return nil, true, false
	case !r.Counts && r.Floor:
		diff := int64(r.MetricTotal) - int64(r.KernelDrops)
		return []string{fmt.Sprintf("the TCP-check floor counted %s TCP packets freed = kernel drops %s %s (on the whole machine)",
			grouped(float64(r.MetricTotal)), grouped(float64(r.KernelDrops)), signed(diff))}, diff >= 0, false
	case !r.Counts:
		diff := int64(r.MetricTotal) - int64(r.KernelDrops)
		return []string{fmt.Sprintf("bpftrace counted %s kfree_skb calls = kernel drops %s %s "+
			"(it counts every protocol on the whole machine, from attach to exit)",
			grouped(float64(r.MetricTotal)), grouped(float64(r.KernelDrops)), signed(diff))}, diff >= 0, false
	}
	msgs, exact = checkCounts(r)
	if !r.Events {
		msgs = append(msgs, "count only: no events, nothing to deliver")
		return msgs, exact, false
	}
	eventMsgs, eventsExact, unchecked := checkOutcomes(r)
	return append(msgs, eventMsgs...), exact && eventsExact, unchecked
}

// checkCounts compares the receiver's metric total with the kernel's
// counter, and reports drops the program could not count or never saw.
func checkCounts(r row) (msgs []string, exact bool) {
	exact = true
	diff := int64(r.MetricTotal) - int64(r.KernelDrops)
	switch {
	case diff == 0:
		msgs = append(msgs, fmt.Sprintf("metric total %s = kernel drops: exact", grouped(float64(r.MetricTotal))))
	case diff > 0:
		msgs = append(msgs, fmt.Sprintf("metric total %s = kernel drops %s + %d drops not in the namespace's Tcp:InSegs (%s)",
			grouped(float64(r.MetricTotal)), grouped(float64(r.KernelDrops)), diff, causes(r.ByCause)))
	default:
		exact = false
		msgs = append(msgs, fmt.Sprintf("metric total %s is %d SHORT of the kernel's %s drops (%s)",
			grouped(float64(r.MetricTotal)), -diff, grouped(float64(r.KernelDrops)), causes(r.ByCause)))
	}
	if r.Uncounted > 0 {
		exact = false
		msgs = append(msgs, fmt.Sprintf("%d drops uncounted (the counter map was full)", r.Uncounted))
	}
	if r.Missed > 0 {
		msgs = append(msgs, fmt.Sprintf("the kernel ran no program for %d kfree_skb calls (another BPF program was running on that CPU; all protocols)", r.Missed))
	}
	return msgs, exact
}

// checkOutcomes checks that every counted drop and reset has an outcome,
// and that the summary records agree with the repeats counter.
func checkOutcomes(r row) (msgs []string, exact, unchecked bool) {
	exact = true
	handled := r.Delivered + r.Refused + r.Lost + r.Shed + r.Filtered + r.Repeated
	counted, total := r.MetricTotal+r.Resets+r.Others, grouped(float64(r.MetricTotal))
	if r.Resets > 0 {
		total = fmt.Sprintf("%s + resets %s", total, grouped(float64(r.Resets)))
	}
	if r.Others > 0 {
		total = fmt.Sprintf("%s + the host's retransmitted segments and failed connects %s", total, grouped(float64(r.Others)))
	}
	parts := outcomeParts(r)
	if r.Repeated > 0 && r.SummaryRepeats != r.Repeated {
		exact = false
		msgs = append(msgs, fmt.Sprintf("the %d summary records say %s repeats, tcp_drop.events.repeated %s",
			r.Summaries, grouped(float64(r.SummaryRepeats)), grouped(float64(r.Repeated))))
	}
	off := fmt.Sprintf("%s = %s, metric total %s: off by %+d", parts, grouped(float64(handled)),
		total, int64(handled)-int64(counted))
	switch {
	case handled == counted:
		msgs = append(msgs, fmt.Sprintf("%s = metric total %s: exact", parts, total))
	case handled < r.KernelDrops:
		exact = false
		msgs = append(msgs, fmt.Sprintf("%s, fewer than the flood's %s drops", off, grouped(float64(r.KernelDrops))))
	case r.CountsMoved:
		unchecked = true
		msgs = append(msgs, off+": not checkable to the event, other drops moved the counts while they were read "+
			"(every drop of the flood has an outcome)")
	case r.Others > 0 && handled < counted:
		unchecked = true
		msgs = append(msgs, off+": not checkable to the event, a record of the host's retransmissions may stand for "+
			"several segments (every drop of the flood has an outcome)")
	default:
		exact = false
		msgs = append(msgs, off)
	}
	return msgs, exact, unchecked
}

// outcomeParts names the outcomes as a sum, refused, filtered and repeated
// only when there were some.
func outcomeParts(r row) string {
	parts := fmt.Sprintf("delivered %s + lost %s + shed %s", grouped(float64(r.Delivered)),
		grouped(float64(r.Lost)), grouped(float64(r.Shed)))
	if r.Refused > 0 {
		parts = fmt.Sprintf("delivered %s + refused %s + lost %s + shed %s", grouped(float64(r.Delivered)),
			grouped(float64(r.Refused)), grouped(float64(r.Lost)), grouped(float64(r.Shed)))
	}
	if r.Filtered > 0 {
		parts += fmt.Sprintf(" + filtered %s", grouped(float64(r.Filtered)))
	}
	if r.Repeated > 0 {
		parts += fmt.Sprintf(" + repeated %s", grouped(float64(r.Repeated)))
	}
	return parts
}

func signed(n int64) string {
	if n >= 0 {
		return fmt.Sprintf("+ %d", n)
	}
	return fmt.Sprintf("- %d", -n)
}

// causes lists drops by cause, largest first: "NO_SOCKET tcp_v4_rcv
// 1,000, CPU_BACKLOG enqueue_to_backlog 12".
func causes(by map[string]uint64) string {
	if len(by) == 0 {
		return "no breakdown"
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if by[keys[i]] != by[keys[j]] {
			return by[keys[i]] > by[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+grouped(float64(by[k])))
	}
	return "by reason and function: " + strings.Join(parts, ", ")
}
