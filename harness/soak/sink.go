// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
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
	server *http.Server

	mu      sync.Mutex
	exports int
	byTime  map[pcommon.Timestamp]*collection
}

func startSink() (*sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + l.Addr().String(), byTime: map[pcommon.Timestamp]*collection{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/metrics", s.serve)
	s.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(l) }()
	return s, nil
}

func (s *sink) close() { _ = s.server.Close() }

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 256<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := pmetricotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.add(req.Metrics())
	resp, _ := pmetricotlp.NewExportResponse().MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// add counts an export's points by their timestamp.
func (s *sink) add(md pmetric.Metrics) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exports++
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
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		s.mu.Lock()
		n := s.exports
		s.mu.Unlock()
		if n > 0 {
			return nil
		}
	}
	return fmt.Errorf("no metrics from the collector within %v", bound)
}
