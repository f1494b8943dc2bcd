// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// otlpServer is an OTLP/HTTP backend for the end-to-end test: it keeps
// every log and metric the collector exports to it.
type otlpServer struct {
	URL string

	mu      sync.Mutex
	logs    []plog.Logs
	metrics []pmetric.Metrics
}

func startOTLPServer(t *testing.T) *otlpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &otlpServer{URL: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/logs", func(w http.ResponseWriter, r *http.Request) {
		req := plogotlp.NewExportRequest()
		if !s.decode(w, r, req.UnmarshalProto) {
			return
		}
		s.mu.Lock()
		s.logs = append(s.logs, req.Logs())
		s.mu.Unlock()
		s.reply(w, plogotlp.NewExportResponse().MarshalProto)
	})
	mux.HandleFunc("/v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		req := pmetricotlp.NewExportRequest()
		if !s.decode(w, r, req.UnmarshalProto) {
			return
		}
		s.mu.Lock()
		s.metrics = append(s.metrics, req.Metrics())
		s.mu.Unlock()
		s.reply(w, pmetricotlp.NewExportResponse().MarshalProto)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *otlpServer) decode(w http.ResponseWriter, r *http.Request, unmarshal func([]byte) error) bool {
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = unmarshal(body)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func (s *otlpServer) reply(w http.ResponseWriter, marshal func() ([]byte, error)) {
	body, err := marshal()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(body)
}

// logRecords returns every log record received that keep accepts, each
// with its Resource's attributes among its own (withResourceRecord).
func (s *otlpServer) logRecords(keep func(plog.LogRecord) bool) []plog.LogRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []plog.LogRecord
	for _, ld := range s.logs {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			for j := 0; j < ld.ResourceLogs().At(i).ScopeLogs().Len(); j++ {
				records := ld.ResourceLogs().At(i).ScopeLogs().At(j).LogRecords()
				for k := 0; k < records.Len(); k++ {
					if lr := withResourceRecord(ld.ResourceLogs().At(i).Resource(), records.At(k)); keep(lr) {
						out = append(out, lr)
					}
				}
			}
		}
	}
	return out
}

// placedRecord is a log record's own attributes and its Resource's.
type placedRecord struct {
	resource, attrs map[string]any
}

// placedRecords returns the log records keep accepts (given the record as
// it arrived), each with its Resource's attributes apart: what the layout
// tests check.
func (s *otlpServer) placedRecords(keep func(plog.LogRecord) bool) []placedRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []placedRecord
	for _, ld := range s.logs {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				records := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < records.Len(); k++ {
					if keep(records.At(k)) {
						out = append(out, placedRecord{rl.Resource().Attributes().AsRaw(), records.At(k).Attributes().AsRaw()})
					}
				}
			}
		}
	}
	return out
}

// lastSum returns the newest value of the cumulative sum name, summed over
// the data points keep accepts, and whether any metrics arrived yet.
func (s *otlpServer) lastSum(name string, keep func(pmetric.NumberDataPoint) bool) (value int64, anyMetrics bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, md := range s.metrics {
		if v, ok := sumPoints(md, name, keep); ok {
			value = v
		}
	}
	return value, len(s.metrics) > 0
}

// lastGauge returns the newest value of the gauge name, summed over the
// data points keep accepts, and whether there was any.
func (s *otlpServer) lastGauge(name string, keep func(pmetric.NumberDataPoint) bool) (value int64, found bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, md := range s.metrics {
		if v, ok := sumPoints(md, name, keep); ok {
			value, found = v, true
		}
	}
	return value, found
}

// sumPoints adds up the points keep accepts of metric name (a sum or a
// gauge) in md; ok is false when md holds no such point. keep sees each
// point with its Resource's attributes among its own (withResourcePoint).
func sumPoints(md pmetric.Metrics, name string, keep func(pmetric.NumberDataPoint) bool) (total int64, ok bool) {
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		for j := 0; j < md.ResourceMetrics().At(i).ScopeMetrics().Len(); j++ {
			metrics := md.ResourceMetrics().At(i).ScopeMetrics().At(j).Metrics()
			for k := 0; k < metrics.Len(); k++ {
				m := metrics.At(k)
				if m.Name() != name {
					continue
				}
				var points pmetric.NumberDataPointSlice
				switch m.Type() {
				case pmetric.MetricTypeSum:
					points = m.Sum().DataPoints()
				case pmetric.MetricTypeGauge:
					points = m.Gauge().DataPoints()
				default:
					continue
				}
				for p := 0; p < points.Len(); p++ {
					if keep(withResourcePoint(md.ResourceMetrics().At(i).Resource(), points.At(p))) {
						total += points.At(p).IntValue()
						ok = true
					}
				}
			}
		}
	}
	return total, ok
}

// withResourceRecord is a copy of lr with the attributes of its Resource
// (the owner's) added to its own: what a test asks of a record, wherever
// the layout puts each attribute. The golden files hold the layout.
func withResourceRecord(res pcommon.Resource, lr plog.LogRecord) plog.LogRecord {
	out := plog.NewLogRecord()
	lr.CopyTo(out)
	addResource(res, out.Attributes())
	return out
}

// withResourcePoint is withResourceRecord for a data point.
func withResourcePoint(res pcommon.Resource, dp pmetric.NumberDataPoint) pmetric.NumberDataPoint {
	out := pmetric.NewNumberDataPoint()
	dp.CopyTo(out)
	addResource(res, out.Attributes())
	return out
}

func addResource(res pcommon.Resource, attrs pcommon.Map) {
	res.Attributes().Range(func(k string, v pcommon.Value) bool {
		v.CopyTo(attrs.PutEmpty(k))
		return true
	})
}
