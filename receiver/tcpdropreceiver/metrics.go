//go:build linux

package tcpdropreceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"go.opentelemetry.io/collector/receiver"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// tcp_drop.packets as metadata.yaml defines it (a test holds the two
// together). The generated builder would aggregate data points with a scan
// per point, quadratic in the number of keys, so this metric is built here.
const (
	packetsName        = "tcp_drop.packets"
	packetsUnit        = "{packet}"
	packetsDescription = "TCP packets the kernel dropped, counted exactly in the kernel, even when events are lost or shed."
)

// metricsConverter turns the engine's cumulative counts into cumulative
// sums, and the listeners' queues into gauges. It does no I/O.
type metricsConverter struct {
	builder *metadata.MetricsBuilder // the sums without attributes
	packets metadata.TCPDropPacketsMetricConfig
	keep    map[metadata.TCPDropPacketsMetricAttributeKey]bool
	queues  queueGauges
	start   pcommon.Timestamp // when counting began

	// last is each tcp_drop.packets point of the previous collection, so
	// that a point summing series of which one expired (drops.Count.Start)
	// restarts with a new start time instead of going down.
	last   map[drops.CountKey]lastPoint
	lastTS pcommon.Timestamp
}

type lastPoint struct {
	start pcommon.Timestamp
	value uint64
}

func newMetricsConverter(cfg metadata.MetricsBuilderConfig, set receiver.Settings, start time.Time) *metricsConverter {
	keep := map[metadata.TCPDropPacketsMetricAttributeKey]bool{}
	for _, k := range cfg.Metrics.TCPDropPackets.EnabledAttributes {
		keep[k] = true
	}
	ts := pcommon.NewTimestampFromTime(start)
	return &metricsConverter{
		builder: metadata.NewMetricsBuilder(cfg, set, metadata.WithStartTime(ts)),
		packets: cfg.Metrics.TCPDropPackets,
		keep:    keep,
		queues:  newQueueGauges(cfg),
		start:   ts,
	}
}

// convert makes the metrics for one collection; listeners are the watched
// listening sockets (nil when not watched).
func (m *metricsConverter) convert(c drops.Counts, listeners []drops.Listener, now time.Time) pmetric.Metrics {
	ts := pcommon.NewTimestampFromTime(now)
	m.builder.RecordTCPDropPacketsUncountedDataPoint(ts, int64(c.Uncounted))
	m.builder.RecordTCPDropEventsLostDataPoint(ts, int64(c.Lost))
	m.builder.RecordTCPDropEventsShedDataPoint(ts, int64(c.Shed))
	m.builder.RecordTCPDropKernelMissedDataPoint(ts, int64(c.Missed))
	md := m.builder.Emit()
	if m.packets.Enabled {
		m.appendPackets(md, c.ByKey, ts)
	}
	m.queues.append(md, listeners, m.start, ts)
	return md
}

// appendPackets adds tcp_drop.packets. Counts that share the kept
// attributes (attributes switched off) are summed into one data point.
func (m *metricsConverter) appendPackets(md pmetric.Metrics, counts []drops.Count, ts pcommon.Timestamp) {
	totals := make(map[drops.CountKey]uint64, len(counts))
	starts := make(map[drops.CountKey]pcommon.Timestamp, len(counts))
	order := make([]drops.CountKey, 0, len(counts))
	for _, c := range counts {
		k := m.kept(c.CountKey)
		start := m.start
		if !c.Start.IsZero() {
			start = pcommon.NewTimestampFromTime(c.Start)
		}
		if _, seen := totals[k]; !seen {
			order = append(order, k)
			starts[k] = start
		}
		totals[k] += c.Packets
		starts[k] = min(starts[k], start)
	}
	// A point is a series, or the sum of several: it starts when the
	// first of them did, and again when the sum went down (one expired).
	for _, k := range order {
		if prev, ok := m.last[k]; ok {
			if totals[k] < prev.value {
				starts[k] = max(starts[k], m.lastTS)
			} else {
				starts[k] = max(starts[k], prev.start)
			}
		}
	}
	m.last = make(map[drops.CountKey]lastPoint, len(order))
	for _, k := range order {
		m.last[k] = lastPoint{start: starts[k], value: totals[k]}
	}
	m.lastTS = ts
	if len(order) == 0 {
		return
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
		dp.SetStartTimestamp(starts[k])
		dp.SetTimestamp(ts)
		dp.SetIntValue(int64(totals[k]))
		attrs := dp.Attributes()
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropOwner] {
			attrs.PutStr(attrOwner, k.Owner)
		}
		if k.Owner == ownerProcess && m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessPid] {
			attrs.PutInt(attrPID, int64(k.PID))
		}
		if k.Owner == ownerProcess && m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessExecutableName] {
			attrs.PutStr(attrExecutable, k.Comm)
		}
		if k.Container != "" {
			attrs.PutStr(attrContainer, k.Container)
		}
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropReason] {
			attrs.PutStr(attrReason, k.Reason)
		}
		if k.Function != "" {
			attrs.PutStr(attrFunction, k.Function)
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

// kept is k with only the attributes the configuration keeps, the others
// left zero so their counts add up.
func (m *metricsConverter) kept(k drops.CountKey) drops.CountKey {
	out := drops.CountKey{Owner: k.Owner}
	if !m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropOwner] && k.Owner != ownerProcess {
		out.Owner = "" // "none" and "unknown" are one point when not told apart
	}
	if k.Owner == ownerProcess {
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessPid] {
			out.PID = k.PID
		}
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessExecutableName] {
			out.Comm = k.Comm
		}
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyContainerID] {
			out.Container = k.Container
		}
	}
	if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropReason] {
		out.Reason = k.Reason
	}
	if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropKernelFunction] {
		out.Function = k.Function
	}
	return out
}
