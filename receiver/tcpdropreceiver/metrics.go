// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"go.opentelemetry.io/collector/receiver"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/internal/probe"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// metricsConverter turns the engine's cumulative counts into cumulative
// sums, and the listeners' queues into gauges, under one Resource per
// owner. It does no I/O.
type metricsConverter struct {
	builder *metadata.MetricsBuilder // the sums without attributes
	owned   ownerMetrics             // the metrics under owners' Resources
	counted [probe.KindConnectFailed + 1]countedMetric
	queues  queueGauges
	res     resources
	rb      *metadata.ResourceBuilder // res's, for this converter
	version string
	start   pcommon.Timestamp // when counting began

	// last is each tcp_drop.packets and tcp_drop.resets point of the
	// previous collection, so that a point summing series of which one
	// expired (drops.Count.Start) restarts with a new start time instead of
	// going down.
	last   map[packetKey]lastPoint
	lastTS pcommon.Timestamp
}

// countedMetric is the metric of one kind of count (probe.Kind):
// tcp_drop.packets for drops, tcp_drop.resets for resets,
// tcp_drop.retransmits for retransmitted segments, tcp_drop.connects.failed
// for failed connects, with the attributes the configuration keeps.
type countedMetric struct {
	metric  pmetric.Metric // the builder's, without points
	enabled bool
	keep    map[string]bool
}

// keepSet is the set of a metric's enabled attributes.
func keepSet[K ~string](keys []K) map[string]bool {
	keep := map[string]bool{}
	for _, k := range keys {
		keep[string(k)] = true
	}
	return keep
}

type lastPoint struct {
	start pcommon.Timestamp
	value uint64
}

// host is the host.name of every Resource ("": none).
func newMetricsConverter(cfg metadata.MetricsBuilderConfig, set receiver.Settings, host string, start time.Time) *metricsConverter {
	ts := pcommon.NewTimestampFromTime(start)
	owned := newOwnerMetrics(set)
	res := newResources(cfg.ResourceAttributes, host)
	return &metricsConverter{
		builder: metadata.NewMetricsBuilder(cfg, set, metadata.WithStartTime(ts)),
		owned:   owned,
		counted: [...]countedMetric{
			probe.KindDrop:  {owned.packets, cfg.Metrics.TCPDropPackets.Enabled, keepSet(cfg.Metrics.TCPDropPackets.EnabledAttributes)},
			probe.KindReset: {owned.resets, cfg.Metrics.TCPDropResets.Enabled, keepSet(cfg.Metrics.TCPDropResets.EnabledAttributes)},
			probe.KindRetransmit: {owned.retransmits, cfg.Metrics.TCPDropRetransmits.Enabled,
				keepSet(cfg.Metrics.TCPDropRetransmits.EnabledAttributes)},
			probe.KindConnectFailed: {owned.failedConnects, cfg.Metrics.TCPDropConnectsFailed.Enabled,
				keepSet(cfg.Metrics.TCPDropConnectsFailed.EnabledAttributes)},
		},
		queues:  newQueueGauges(cfg, owned),
		res:     res,
		rb:      res.newBuilder(),
		version: set.BuildInfo.Version,
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
	m.builder.RecordTCPDropEventsFilteredDataPoint(ts, int64(c.Filtered))
	m.builder.RecordTCPDropEventsRepeatedDataPoint(ts, int64(c.Repeated))
	m.builder.RecordTCPDropCollectionDelayDataPoint(ts, c.Delay.Seconds())
	m.builder.RecordTCPDropKernelMissedDataPoint(ts, int64(c.Missed))
	byOwner := newMetricsByResource(m.builder.Emit(), &m.res, m.rb, m.version)
	m.appendCounts(byOwner, c.ByKey, ts)
	m.queues.append(byOwner, listeners, m.start, ts)
	return byOwner.md
}

// packetKey is what a tcp_drop.packets or tcp_drop.resets data point is
// kept by: its metric, its Resource and its attributes, those switched off
// left zero.
type packetKey struct {
	kind                    probe.Kind
	res                     resourceKey
	owner                   drops.OwnerStatus
	reason, function, state string
}

// appendCounts adds tcp_drop.packets and tcp_drop.resets. Counts that share
// the kept attributes (attributes switched off) are summed into one data
// point.
func (m *metricsConverter) appendCounts(byOwner *metricsByResource, counts []drops.Count, ts pcommon.Timestamp) {
	totals := make(map[packetKey]uint64, len(counts))
	starts := make(map[packetKey]pcommon.Timestamp, len(counts))
	order := make([]packetKey, 0, len(counts))
	for _, c := range counts {
		if int(c.Kind) >= len(m.counted) || !m.counted[c.Kind].enabled {
			continue
		}
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
	m.last = make(map[packetKey]lastPoint, len(order))
	for _, k := range order {
		m.last[k] = lastPoint{start: starts[k], value: totals[k]}
	}
	m.lastTS = ts

	type metricOf struct {
		kind probe.Kind
		res  resourceKey
	}
	byRes := map[metricOf]pmetric.NumberDataPointSlice{}
	for _, k := range order {
		ps, ok := byRes[metricOf{k.kind, k.res}]
		if !ok {
			ps = appendMetric(m.counted[k.kind].metric, byOwner.metrics(k.res))
			byRes[metricOf{k.kind, k.res}] = ps
		}
		dp := ps.AppendEmpty()
		dp.SetStartTimestamp(starts[k])
		dp.SetTimestamp(ts)
		dp.SetIntValue(int64(totals[k]))
		attrs := dp.Attributes()
		if k.owner != "" {
			attrs.PutStr(attrOwner, string(k.owner))
		}
		if k.reason != "" {
			attrs.PutStr(attrReason, k.reason)
		}
		if k.function != "" {
			attrs.PutStr(attrFunction, k.function)
		}
		if k.state != "" {
			attrs.PutStr(attrConnectionState, k.state)
		}
	}
}

// kept is the key of k's data point, with only the attributes the
// configuration keeps, the others left zero so their counts add up.
func (m *metricsConverter) kept(k drops.CountKey) packetKey {
	keep := m.counted[k.Kind].keep
	out := packetKey{kind: k.Kind, res: m.res.ofOwner(k.Owner)}
	if keep[attrOwner] {
		out.owner = k.Status
	}
	if keep[attrReason] {
		out.reason = k.Reason
	}
	if keep[attrFunction] {
		out.function = k.Function
	}
	if keep[attrConnectionState] {
		out.state = k.State
	}
	return out
}

// metricsByResource is one collection's metrics being made, a
// ResourceMetrics per owner. The generated builder's sums, which have no
// owner, are under the Resource without one.
type metricsByResource struct {
	md      pmetric.Metrics
	res     *resources // the converter's: a copy would copy its configuration
	rb      *metadata.ResourceBuilder
	version string
	byKey   map[resourceKey]pmetric.MetricSlice
}

func newMetricsByResource(md pmetric.Metrics, res *resources, rb *metadata.ResourceBuilder, version string) *metricsByResource {
	b := &metricsByResource{md: md, res: res, rb: rb, version: version, byKey: map[resourceKey]pmetric.MetricSlice{}}
	if md.ResourceMetrics().Len() > 0 {
		rm := md.ResourceMetrics().At(0)
		res.fill(rb, resourceKey{}, rm.Resource())
		b.byKey[resourceKey{}] = rm.ScopeMetrics().At(0).Metrics()
	}
	return b
}

// metrics returns the metrics of k's Resource, with the receiver's scope,
// made on first use.
func (b *metricsByResource) metrics(k resourceKey) pmetric.MetricSlice {
	if ms, ok := b.byKey[k]; ok {
		return ms
	}
	rm := b.md.ResourceMetrics().AppendEmpty()
	b.res.fill(b.rb, k, rm.Resource())
	scope := rm.ScopeMetrics().AppendEmpty()
	scope.Scope().SetName(metadata.ScopeName)
	scope.Scope().SetVersion(b.version)
	ms := scope.Metrics()
	b.byKey[k] = ms
	return ms
}
