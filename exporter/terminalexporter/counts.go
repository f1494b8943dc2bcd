// SPDX-License-Identifier: Apache-2.0

package terminalexporter

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// The tcp_drop receiver's metrics the summary reads (its metadata.yaml).
const (
	packetsMetric = "tcp_drop.packets"
	reasonAttr    = "tcp_drop.reason"
)

// shortfalls are the counters that say what the records miss, and the
// resets sent, segments sent again and connects failed; the summary names
// them only when they are not zero.
var shortfalls = []struct{ metric, label string }{
	{"tcp_drop.resets", "resets sent"},
	{"tcp_drop.retransmits", "segments sent again"},
	{"tcp_drop.connects.failed", "connects failed"},
	{"tcp_drop.events.lost", "events lost"},
	{"tcp_drop.events.shed", "events shed"},
	{"tcp_drop.packets.uncounted", "packets uncounted"},
}

// maxReasons is how many reasons the summary names; the others are summed.
const maxReasons = 6

// countsPrinter prints each collection as one line, the cumulative count
// of dropped packets by reason, and of the resets sent:
// [15:04:30] Counts since start: 42 drops | NO_SOCKET 30 | NETFILTER_DROP 12 | resets sent 30
type countsPrinter struct{ out *lineWriter }

func (p countsPrinter) push(_ context.Context, md pmetric.Metrics) error {
	s := summarize(md)
	if s.at.IsZero() {
		return nil // no tcp_drop counts in this batch
	}
	return p.out.write(s.appendLine(nil))
}

type reasonCount struct {
	reason  string
	packets int64
}

type summary struct {
	at         time.Time
	total      int64
	byReason   []reasonCount
	shortfalls []int64 // by shortfalls' index
}

func summarize(md pmetric.Metrics) summary {
	s := summary{shortfalls: make([]int64, len(shortfalls))}
	byReason := map[string]int64{}
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Type() != pmetric.MetricTypeSum {
					continue
				}
				for _, dp := range m.Sum().DataPoints().All() {
					if m.Name() == packetsMetric {
						s.seen(dp.Timestamp())
						s.total += dp.IntValue()
						reason, _ := dp.Attributes().Get(reasonAttr)
						byReason[reason.AsString()] += dp.IntValue()
					}
					for i, f := range shortfalls {
						if m.Name() == f.metric {
							s.seen(dp.Timestamp())
							s.shortfalls[i] += dp.IntValue()
						}
					}
				}
			}
		}
	}
	for r, n := range byReason {
		s.byReason = append(s.byReason, reasonCount{r, n})
	}
	slices.SortFunc(s.byReason, func(a, b reasonCount) int {
		return cmp.Or(cmp.Compare(b.packets, a.packets), cmp.Compare(a.reason, b.reason))
	})
	return s
}

func (s *summary) seen(ts pcommon.Timestamp) {
	if t := ts.AsTime(); t.After(s.at) {
		s.at = t
	}
}

func (s summary) appendLine(b []byte) []byte {
	b = appendTime(b, s.at)
	b = append(b, "Counts since start: "...)
	b = strconv.AppendInt(b, s.total, 10)
	b = append(b, " drops"...)
	for i, r := range s.byReason {
		if i == maxReasons {
			var rest int64
			for _, o := range s.byReason[i:] {
				rest += o.packets
			}
			b = append(b, " | "...)
			b = strconv.AppendInt(b, int64(len(s.byReason)-i), 10)
			b = append(b, " other reasons "...)
			b = strconv.AppendInt(b, rest, 10)
			break
		}
		if r.reason == "" {
			continue // the reason attribute is off: the total says it all
		}
		b = append(b, " | "...)
		b = append(b, r.reason...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, r.packets, 10)
	}
	for i, n := range s.shortfalls {
		if n != 0 {
			b = append(b, " | "...)
			b = append(b, shortfalls[i].label...)
			b = append(b, ' ')
			b = strconv.AppendInt(b, n, 10)
		}
	}
	return append(b, '\n')
}
