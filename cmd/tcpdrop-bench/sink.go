// SPDX-License-Identifier: Apache-2.0

package main

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// The receiver's metrics the bench reads.
const (
	metricPackets   = "tcp_drop.packets"
	metricLost      = "tcp_drop.events.lost"
	metricShed      = "tcp_drop.events.shed"
	metricFiltered  = "tcp_drop.events.filtered"
	metricRepeated  = "tcp_drop.events.repeated"
	metricUncounted = "tcp_drop.packets.uncounted"
	metricMissed    = "tcp_drop.kernel.missed"
)

// counts is what one export of the receiver's metrics said: cumulative
// values since the collector started, tcp_drop.packets summed over every
// data point (every process, reason and function).
type counts struct {
	Seq       uint64    // exports received by the sink so far, this one included
	Stamp     time.Time // when the receiver read the kernel's counts
	Valid     bool      // false until the current collector's first export
	Packets   uint64
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
	srv *http.Server

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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("OTLP sink: %w", err)
	}
	s := &sink{URL: "http://" + ln.Addr().String(), arrived: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/metrics", s.handleMetrics)
	mux.HandleFunc("POST /v1/logs", s.handleLogs)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *sink) Close() error { return s.srv.Close() }

// readBody reads a request's body, gzipped or not.
func readBody(r *http.Request) ([]byte, error) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		body = zr
	}
	return io.ReadAll(io.LimitReader(body, 64<<20))
}

// handleLogs counts the summary records of repeats (those with
// tcp_drop.repeats) and adds up their repeats.
func (s *sink) handleLogs(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(data); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var got summaries
	rls := req.Logs().ResourceLogs()
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
	resp, err := plogotlp.NewExportResponse().MarshalProto()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(resp)
}

// summaries returns the summary records received so far.
func (s *sink) summaries() summaries {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.summary
}

func (s *sink) handleMetrics(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := pmetricotlp.NewExportRequest()
	if err := req.UnmarshalProto(data); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if c, ok := readCounts(req.Metrics()); ok {
		s.mu.Lock()
		c.Seq = s.last.Seq + 1
		s.last = c
		close(s.arrived)
		s.arrived = make(chan struct{})
		s.mu.Unlock()
	}
	resp, err := pmetricotlp.NewExportResponse().MarshalProto()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(resp)
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
