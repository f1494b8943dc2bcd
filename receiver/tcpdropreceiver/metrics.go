//go:build linux

package tcpdropreceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"go.opentelemetry.io/collector/receiver"

	"github.com/tcpdrop/tcpdrop/internal/probe"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// packetKey is one data point of tcp_drop.packets: the attributes the
// configuration keeps, the others left zero so their counts add up.
type packetKey struct {
	pid      int64
	comm     string
	reason   string
	function string
}

// tcp_drop.packets as metadata.yaml defines it (a test holds the two
// together). The generated builder would aggregate data points with a scan
// per point, quadratic in the number of keys, so this metric is built here.
const (
	packetsName        = "tcp_drop.packets"
	packetsUnit        = "{packet}"
	packetsDescription = "TCP packets the kernel dropped, counted exactly in the kernel, even when events are lost or shed."
)

// metricsConverter turns the kernel's exact counts into cumulative sums.
type metricsConverter struct {
	builder *metadata.MetricsBuilder // the sums without attributes
	packets metadata.TCPDropPacketsMetricConfig
	keep    map[metadata.TCPDropPacketsMetricAttributeKey]bool
	names   kernelNames
	start   pcommon.Timestamp // when counting began
}

func newMetricsConverter(cfg metadata.MetricsBuilderConfig, set receiver.Settings, names kernelNames, start time.Time) *metricsConverter {
	keep := map[metadata.TCPDropPacketsMetricAttributeKey]bool{}
	for _, k := range cfg.Metrics.TCPDropPackets.EnabledAttributes {
		keep[k] = true
	}
	ts := pcommon.NewTimestampFromTime(start)
	return &metricsConverter{
		builder: metadata.NewMetricsBuilder(cfg, set, metadata.WithStartTime(ts)),
		packets: cfg.Metrics.TCPDropPackets,
		keep:    keep,
		names:   names,
		start:   ts,
	}
}

// convert makes the metrics for one collection.
func (m *metricsConverter) convert(c probe.Counts, now time.Time) pmetric.Metrics {
	ts := pcommon.NewTimestampFromTime(now)
	m.builder.RecordTCPDropPacketsUncountedDataPoint(ts, int64(c.Uncounted))
	m.builder.RecordTCPDropEventsLostDataPoint(ts, int64(c.Lost))
	m.builder.RecordTCPDropEventsShedDataPoint(ts, int64(c.Shed))
	m.builder.RecordTCPDropKernelMissedDataPoint(ts, int64(c.Missed))
	md := m.builder.Emit()
	if m.packets.Enabled && len(c.ByKey) > 0 {
		m.appendPackets(md, c.ByKey, ts)
	}
	return md
}

// appendPackets adds tcp_drop.packets. Counts that share the kept
// attributes (another offset in the same function, or attributes switched
// off) are summed into one data point.
func (m *metricsConverter) appendPackets(md pmetric.Metrics, counts []probe.Count, ts pcommon.Timestamp) {
	totals := make(map[packetKey]uint64, len(counts))
	order := make([]packetKey, 0, len(counts))
	for _, c := range counts {
		k := m.key(c)
		if _, seen := totals[k]; !seen {
			order = append(order, k)
		}
		totals[k] += c.Packets
	}

	metric := scopeMetrics(md).AppendEmpty()
	metric.SetName(packetsName)
	metric.SetUnit(packetsUnit)
	metric.SetDescription(packetsDescription)
	sum := metric.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	points := sum.DataPoints()
	points.EnsureCapacity(len(order))
	for _, k := range order {
		dp := points.AppendEmpty()
		dp.SetStartTimestamp(m.start)
		dp.SetTimestamp(ts)
		dp.SetIntValue(int64(totals[k]))
		attrs := dp.Attributes()
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessPid] {
			attrs.PutInt(attrPID, k.pid)
		}
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessExecutableName] {
			attrs.PutStr(attrExecutable, k.comm)
		}
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropReason] {
			attrs.PutStr(attrReason, k.reason)
		}
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropKernelFunction] {
			attrs.PutStr(attrFunction, k.function)
		}
	}
}

// scopeMetrics is where the builder put its metrics, made if it put none.
func scopeMetrics(md pmetric.Metrics) pmetric.MetricSlice {
	if md.ResourceMetrics().Len() == 0 {
		scope := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
		scope.Scope().SetName(metadata.ScopeName)
	}
	return md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
}

func (m *metricsConverter) key(c probe.Count) packetKey {
	var k packetKey
	if m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessPid] {
		k.pid = int64(c.PID)
	}
	if m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessExecutableName] {
		k.comm = probe.CommString(c.Comm)
	}
	if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropReason] {
		k.reason = m.names.reason(c.Reason, c.HasReason)
	}
	if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropKernelFunction] {
		k.function = m.names.function(c.Location)
	}
	return k
}
