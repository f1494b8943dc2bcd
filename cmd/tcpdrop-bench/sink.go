// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tcpdrop/tcpdrop/harness/otlpsink"
)

// The receiver's metrics the bench reads.
const (
	metricPackets = "tcp_drop.packets"
	metricResets  = "tcp_drop.resets"
	// The flood makes no retransmission and no failed connect: these are
	// the host's other traffic, which has events too.
	metricRetransmits    = "tcp_drop.retransmits"
	metricFailedConnects = "tcp_drop.connects.failed"
	metricLost           = "tcp_drop.events.lost"
	metricShed           = "tcp_drop.events.shed"
	metricFiltered       = "tcp_drop.events.filtered"
	metricRepeated       = "tcp_drop.events.repeated"
	metricUncounted      = "tcp_drop.packets.uncounted"
	metricMissed         = "tcp_drop.kernel.missed"
)

// counts is what one export of the receiver's metrics said: cumulative
// values since the collector started, tcp_drop.packets summed over every
// data point (every process, reason and function).
type counts struct {
	Seq     uint64    // exports received by the sink so far, this one included
	Stamp   time.Time // when the receiver read the kernel's counts
	Valid   bool      // false until the current collector's first export
	Packets uint64
	Resets  uint64 // tcp_drop.resets: the flood's RSTs, which have events too
	// Others is tcp_drop.retransmits + tcp_drop.connects.failed: the
	// host's own segments sent again and failed connects.
	Others    uint64
	Lost      uint64
	Shed      uint64
	Filtered  uint64
	Repeated  uint64
	Uncounted uint64
	Missed    uint64 // kfree_skb calls the kernel ran no program for (another BPF program ran)
	// ByCause is tcp_drop.packets by reason and kernel function, to say
	// what the drops beyond the flood's were.
	ByCause map[string]uint64
}

// Attributes of tcp_drop.packets that name a drop's cause.
const (
	attrReason   = "tcp_drop.reason"
	attrFunction = "tcp_drop.kernel_function"
	attrRepeats  = "tcp_drop.repeats" // on a summary record: its key's drops that had no record
)

// causeOf is "REASON function", from whichever of the two the data point has.
func causeOf(dp pmetric.NumberDataPoint) string {
	var parts []string
	for _, k := range []string{attrReason, attrFunction} {
		if v, ok := dp.Attributes().Get(k); ok {
			parts = append(parts, v.AsString())
		}
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, " ")
}

// sink is the OTLP/HTTP backend the collectors under test export their
// metrics to. It keeps only the newest export's counts, and of the log
// records a mode sends it, the summary records of repeats.
type sink struct {
	URL string
	srv *otlpsink.Server

	mu      sync.Mutex
	last    counts
	arrived chan struct{} // closed and replaced at every export
	summary summaries
}

// summaries are the summary records of repeats the sink received since the
// collector started, and the repeats they add up to.
type summaries struct {
	Records, Repeats uint64
}

func startSink() (*sink, error) {
	s := &sink{arrived: make(chan struct{})}
	logs, err := consumer.NewLogs(s.consumeLogs)
	if err != nil {
		return nil, err
	}
	metrics, err := consumer.NewMetrics(s.consumeMetrics)
	if err != nil {
		return nil, err
	}
	if s.srv, err = otlpsink.Start(otlpsink.HTTP, logs, metrics); err != nil {
		return nil, fmt.Errorf("OTLP sink: %w", err)
	}
	s.URL = s.srv.URL
	return s, nil
}

func (s *sink) Close() error { return s.srv.Close() }

// consumeLogs counts the summary records of repeats (those with
// tcp_drop.repeats) and adds up their repeats.
func (s *sink) consumeLogs(_ context.Context, ld plog.Logs) error {
	var got summaries
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				if v, ok := lrs.At(k).Attributes().Get(attrRepeats); ok && v.Int() > 0 {
					got.Records++
					got.Repeats += uint64(v.Int())
				}
			}
		}
	}
	s.mu.Lock()
	s.summary.Records += got.Records
	s.summary.Repeats += got.Repeats
	s.mu.Unlock()
	return nil
}

// summaries returns the summary records received so far.
func (s *sink) summaries() summaries {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.summary
}

func (s *sink) consumeMetrics(_ context.Context, md pmetric.Metrics) error {
	if c, ok := readCounts(md); ok {
		s.mu.Lock()
		c.Seq = s.last.Seq + 1
		s.last = c
		close(s.arrived)
		s.arrived = make(chan struct{})
		s.mu.Unlock()
	}
	return nil
}

// readCounts picks the receiver's sums out of an export; ok is false when
// it has none of them (tcp_drop.events.lost is in every collection).
func readCounts(md pmetric.Metrics) (c counts, ok bool) {
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		sms := md.ResourceMetrics().At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				if m.Type() != pmetric.MetricTypeSum {
					continue
				}
				var dst *uint64
				switch m.Name() {
				case metricPackets:
					dst = &c.Packets
				case metricResets:
					dst = &c.Resets
				case metricRetransmits, metricFailedConnects:
					dst = &c.Others
				case metricLost:
					dst, ok = &c.Lost, true
				case metricShed:
					dst = &c.Shed
				case metricFiltered:
					dst = &c.Filtered
				case metricRepeated:
					dst = &c.Repeated
				case metricUncounted:
					dst = &c.Uncounted
				case metricMissed:
					dst = &c.Missed
				default:
					continue
				}
				dps := m.Sum().DataPoints()
				for p := 0; p < dps.Len(); p++ {
					v := dps.At(p).IntValue()
					if v > 0 {
						*dst += uint64(v)
					}
					if m.Name() == metricPackets && v > 0 {
						if c.ByCause == nil {
							c.ByCause = map[string]uint64{}
						}
						c.ByCause[causeOf(dps.At(p))] += uint64(v)
					}
					if t := dps.At(p).Timestamp().AsTime(); t.After(c.Stamp) {
						c.Stamp = t
					}
				}
			}
		}
	}
	c.Valid = ok
	return c, ok
}

// latest returns the newest counts and a channel closed at the next export.
func (s *sink) latest() (counts, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.arrived
}

// reset forgets the counts before a new collector starts: its cumulative
// sums start again from zero.
func (s *sink) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = counts{Seq: s.last.Seq}
	s.summary = summaries{}
}

// errNoExport is returned when no export arrived in time.
var errNoExport = errors.New("no metrics export from the collector in time")

// next waits for an export newer than seq.
func (s *sink) next(ctx context.Context, seq uint64) (counts, error) {
	for {
		c, arrived := s.latest()
		if c.Valid && c.Seq > seq {
			return c, nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return c, errNoExport
			}
			return c, context.Cause(ctx)
		}
	}
}
