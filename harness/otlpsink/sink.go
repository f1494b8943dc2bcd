// SPDX-License-Identifier: Apache-2.0

package otlpsink

import (
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Sink is a Server that keeps every export.
type Sink struct {
	*Server
	Logs    *consumertest.LogsSink
	Metrics *consumertest.MetricsSink
}

// StartSink starts a Server over p that keeps both signals.
func StartSink(p Protocol) (*Sink, error) {
	s := &Sink{Logs: new(consumertest.LogsSink), Metrics: new(consumertest.MetricsSink)}
	var err error
	s.Server, err = Start(p, s.Logs, s.Metrics)
	return s, err
}

// Item is a log record or a data point, with its Resource's attributes
// apart from its own.
type Item struct {
	Resource, Attrs map[string]any
}

// All is Resource and Attrs in one map: what a test asks of an item
// wherever the layout puts each attribute.
func (it Item) All() map[string]any {
	out := make(map[string]any, len(it.Resource)+len(it.Attrs))
	for k, v := range it.Resource {
		out[k] = v
	}
	for k, v := range it.Attrs {
		out[k] = v
	}
	return out
}

// Int is attribute key of attrs as an int64: 0 when it is missing or not
// an int.
func Int(attrs map[string]any, key string) int64 {
	v, _ := attrs[key].(int64)
	return v
}

// Record is a log record received, with its Resource.
type Record struct {
	Item
	plog.LogRecord
	res pcommon.Resource
}

// Merged is a copy of the record with its Resource's attributes added to
// its own: what a test asks of a record, wherever the layout puts each
// attribute.
func (r Record) Merged() plog.LogRecord {
	out := plog.NewLogRecord()
	r.CopyTo(out)
	addResource(r.res, out.Attributes())
	return out
}

// Point is a data point received, with its Resource.
type Point struct {
	Item
	pmetric.NumberDataPoint
	res pcommon.Resource
}

// Merged is Record.Merged for a data point.
func (p Point) Merged() pmetric.NumberDataPoint {
	out := pmetric.NewNumberDataPoint()
	p.CopyTo(out)
	addResource(p.res, out.Attributes())
	return out
}

func addResource(res pcommon.Resource, attrs pcommon.Map) {
	res.Attributes().Range(func(k string, v pcommon.Value) bool {
		v.CopyTo(attrs.PutEmpty(k))
		return true
	})
}

// Records returns every log record received that keep accepts.
func (s *Sink) Records(keep func(Record) bool) []Record {
	return Records(s.Logs.AllLogs(), keep)
}

// Last is LastOf the metrics received.
func (s *Sink) Last(name string, keep func(Point) bool) (int64, bool) {
	return LastOf(s.Metrics.AllMetrics(), name, keep)
}

// Records returns the log records of exports that keep accepts.
func Records(exports []plog.Logs, keep func(Record) bool) []Record {
	var out []Record
	for _, ld := range exports {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			res := rl.Resource().Attributes().AsRaw()
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					r := Record{Item{res, lrs.At(k).Attributes().AsRaw()}, lrs.At(k), rl.Resource()}
					if keep(r) {
						out = append(out, r)
					}
				}
			}
		}
	}
	return out
}

// LastOf returns the newest export's value of metric name (a sum or a
// gauge), summed over the data points keep accepts, and whether any export
// had such a point. Exports older than the newest that has one do not
// count: each holds the whole of a cumulative sum or a gauge.
func LastOf(exports []pmetric.Metrics, name string, keep func(Point) bool) (value int64, found bool) {
	for _, md := range exports {
		if v, ok := sumOf(md, name, keep); ok {
			value, found = v, true
		}
	}
	return value, found
}

func sumOf(md pmetric.Metrics, name string, keep func(Point) bool) (total int64, ok bool) {
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		var res map[string]any
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
				if res == nil {
					res = rm.Resource().Attributes().AsRaw()
				}
				for p := 0; p < points.Len(); p++ {
					if keep(Point{Item{res, points.At(p).Attributes().AsRaw()}, points.At(p), rm.Resource()}) {
						total += points.At(p).IntValue()
						ok = true
					}
				}
			}
		}
	}
	return total, ok
}
