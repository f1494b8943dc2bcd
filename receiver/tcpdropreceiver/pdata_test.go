// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

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
