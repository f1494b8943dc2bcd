// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// backend is an OTLP/HTTP server (protobuf) that keeps what the collector
// exports to it.
type backend struct {
	URL string

	mu      sync.Mutex
	logs    []plog.Logs
	metrics []pmetric.Metrics
}

func startBackend(t *testing.T) *backend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveBackend(t, l)
}

// serveBackend serves OTLP/HTTP on l until the test ends.
func serveBackend(t *testing.T, l net.Listener) *backend {
	b := &backend{URL: "http://" + l.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/logs", func(w http.ResponseWriter, r *http.Request) {
		req := plogotlp.NewExportRequest()
		if !decode(w, r, req.UnmarshalProto) {
			return
		}
		b.addLogs(req.Logs())
		reply(w, plogotlp.NewExportResponse().MarshalProto)
	})
	mux.HandleFunc("/v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		req := pmetricotlp.NewExportRequest()
		if !decode(w, r, req.UnmarshalProto) {
			return
		}
		b.addMetrics(req.Metrics())
		reply(w, pmetricotlp.NewExportResponse().MarshalProto)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return b
}

func (b *backend) addLogs(ld plog.Logs) {
	b.mu.Lock()
	b.logs = append(b.logs, ld)
	b.mu.Unlock()
}

func (b *backend) addMetrics(md pmetric.Metrics) {
	b.mu.Lock()
	b.metrics = append(b.metrics, md)
	b.mu.Unlock()
}

func decode(w http.ResponseWriter, r *http.Request, unmarshal func([]byte) error) bool {
	var in io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" { // the exporters' default
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return false
		}
		in = zr
	}
	body, err := io.ReadAll(in)
	if err == nil {
		err = unmarshal(body)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func reply(w http.ResponseWriter, marshal func() ([]byte, error)) {
	body, err := marshal()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(body)
}

// record is a log record with its Resource's attributes.
type record struct {
	resource, attrs map[string]any
}

// records returns every log record received that keep accepts.
func (b *backend) records(keep func(record) bool) []record {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []record
	for _, ld := range b.logs {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			res := rl.Resource().Attributes().AsRaw()
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					if r := (record{res, lrs.At(k).Attributes().AsRaw()}); keep(r) {
						out = append(out, r)
					}
				}
			}
		}
	}
	return out
}

// last returns the newest export's value of metric name, summed over the
// data points keep accepts (given the point's Resource and own
// attributes), and whether that export had any such point.
func (b *backend) last(name string, keep func(record) bool) (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var value int64
	var found bool
	for _, md := range b.metrics {
		var total int64
		var seen bool
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			rm := md.ResourceMetrics().At(i)
			res := rm.Resource().Attributes().AsRaw()
			for j := 0; j < rm.ScopeMetrics().Len(); j++ {
				ms := rm.ScopeMetrics().At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					m := ms.At(k)
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
						if keep(record{res, points.At(p).Attributes().AsRaw()}) {
							total += points.At(p).IntValue()
							seen = true
						}
					}
				}
			}
		}
		if seen {
			value, found = total, true
		}
	}
	return value, found
}

func intOf(m map[string]any, key string) int64 {
	v, _ := m[key].(int64)
	return v
}
