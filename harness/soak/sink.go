// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tcpdrop/tcpdrop/harness/otlpsink"
)

// The receiver's metrics the soak reads.
const (
	metricPackets   = "tcp_drop.packets"
	metricUncounted = "tcp_drop.packets.uncounted"
	metricLost      = "tcp_drop.events.lost"
)

// collection is what the collector reported of one collection of the
// counts (the points that share its timestamp, which the batch processor
// may have split over several requests).
type collection struct {
	series    int // data points of tcp_drop.packets
	resources int // Resources (owners) that have some
	uncounted int64
	lost      int64
}

// sink is an OTLP/HTTP metrics endpoint on 127.0.0.1 that keeps what the
// newest collections said.
type sink struct {
	url    string
	server *otlpsink.Server

	exported  chan struct{} // closed at the first export
	firstOnce sync.Once

	mu     sync.Mutex
	byTime map[pcommon.Timestamp]*collection
}

func startSink() (*sink, error) {
	s := &sink{exported: make(chan struct{}), byTime: map[pcommon.Timestamp]*collection{}}
	metrics, err := consumer.NewMetrics(func(_ context.Context, md pmetric.Metrics) error {
		s.add(md)
		s.firstOnce.Do(func() { close(s.exported) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.server, err = otlpsink.Start(otlpsink.HTTP, nil, metrics); err != nil {
		return nil, err
	}
	s.url = s.server.URL
	return s, nil
}

func (s *sink) close() { _ = s.server.Close() }

// add counts an export's points by their timestamp.
func (s *sink) add(md pmetric.Metrics) {
	s.mu.Lock()
	defer s.mu.Unlock()
	of := func(ts pcommon.Timestamp) *collection {
		c := s.byTime[ts]
		if c == nil {
			c = &collection{}
			s.byTime[ts] = c
		}
		return c
	}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		counted := map[pcommon.Timestamp]bool{}
		sms := md.ResourceMetrics().At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				if m.Type() != pmetric.MetricTypeSum {
					continue
				}
				dps := m.Sum().DataPoints()
				for p := 0; p < dps.Len(); p++ {
					dp := dps.At(p)
					c := of(dp.Timestamp())
					switch m.Name() {
					case metricPackets:
						c.series++
						if !counted[dp.Timestamp()] {
							counted[dp.Timestamp()] = true
							c.resources++
						}
					case metricUncounted:
						c.uncounted = dp.IntValue()
					case metricLost:
						c.lost = dp.IntValue()
					}
				}
			}
		}
	}
	// Keep the newest few collections only.
	for len(s.byTime) > 4 {
		var oldest pcommon.Timestamp
		for ts := range s.byTime {
			if oldest == 0 || ts < oldest {
				oldest = ts
			}
		}
		delete(s.byTime, oldest)
	}
}

// last is the newest collection that is complete: the newest but one when
// there are two (a newer one arriving means the one before is all in), else
// the only one.
func (s *sink) last() collection {
	s.mu.Lock()
	defer s.mu.Unlock()
	var newest, before pcommon.Timestamp
	for ts := range s.byTime {
		switch {
		case ts > newest:
			newest, before = ts, newest
		case ts > before:
			before = ts
		}
	}
	if before == 0 {
		before = newest
	}
	if c := s.byTime[before]; c != nil {
		return *c
	}
	return collection{}
}

// waitExport waits for the collector's first export of its metrics: the
// kernel program is attached and the pipeline runs.
func (s *sink) waitExport(bound time.Duration) error {
	select {
	case <-s.exported:
		return nil
	case <-time.After(bound):
		return fmt.Errorf("no metrics from the collector within %v", bound)
	}
}
