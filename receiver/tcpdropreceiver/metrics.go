//go:build linux

package tcpdropreceiver

import (
	"sync"
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
	owner     string // tcp_drop.owner; "" when not kept and not "process"
	pid       int64
	comm      string
	container string
	reason    string
	function  string
}

// tcp_drop.packets as metadata.yaml defines it (a test holds the two
// together). The generated builder would aggregate data points with a scan
// per point, quadratic in the number of keys, so this metric is built here.
const (
	packetsName        = "tcp_drop.packets"
	packetsUnit        = "{packet}"
	packetsDescription = "TCP packets the kernel dropped, counted exactly in the kernel, even when events are lost or shed."
)

// metricsConverter turns the kernel's exact counts, and the listen-queue
// overflows the watcher found, into cumulative sums, and the listeners'
// queues into gauges.
type metricsConverter struct {
	builder *metadata.MetricsBuilder // the sums without attributes
	packets metadata.TCPDropPacketsMetricConfig
	keep    map[metadata.TCPDropPacketsMetricAttributeKey]bool
	queues  queueGauges
	names   kernelNames
	owners  ownerLookup       // nil: owners are not resolved
	start   pcommon.Timestamp // when counting began

	// byInode keeps the first owner found for each socket, so that a
	// count's data point never moves to another owner (a cumulative sum
	// must not go down) when its socket closes and the owner is forgotten.
	byInode map[uint64]attribution

	mu        sync.Mutex
	overflows map[packetKey]uint64 // listen-queue overflows so far, by owner
}

func newMetricsConverter(cfg metadata.MetricsBuilderConfig, set receiver.Settings, names kernelNames, owners ownerLookup, start time.Time) *metricsConverter {
	keep := map[metadata.TCPDropPacketsMetricAttributeKey]bool{}
	for _, k := range cfg.Metrics.TCPDropPackets.EnabledAttributes {
		keep[k] = true
	}
	ts := pcommon.NewTimestampFromTime(start)
	return &metricsConverter{
		builder:   metadata.NewMetricsBuilder(cfg, set, metadata.WithStartTime(ts)),
		packets:   cfg.Metrics.TCPDropPackets,
		keep:      keep,
		queues:    newQueueGauges(cfg),
		names:     names,
		owners:    owners,
		start:     ts,
		byInode:   map[uint64]attribution{},
		overflows: map[packetKey]uint64{},
	}
}

// addOverflows counts listen-queue overflows of a listener owned by who.
// Safe to call while convert runs.
func (m *metricsConverter) addOverflows(who attribution, n uint64) {
	k := m.keyFor(who, listenOverflowReason, "")
	m.mu.Lock()
	m.overflows[k] += n
	m.mu.Unlock()
}

// convert makes the metrics for one collection; listeners are the watched
// listening sockets (nil when not watched).
func (m *metricsConverter) convert(c probe.Counts, listeners []watchedListener, now time.Time) pmetric.Metrics {
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
// attributes (another offset in the same function, or attributes switched
// off) are summed into one data point.
func (m *metricsConverter) appendPackets(md pmetric.Metrics, counts []probe.Count, ts pcommon.Timestamp) {
	totals := make(map[packetKey]uint64, len(counts))
	order := make([]packetKey, 0, len(counts))
	add := func(k packetKey, n uint64) {
		if _, seen := totals[k]; !seen {
			order = append(order, k)
		}
		totals[k] += n
	}
	for _, c := range counts {
		add(m.key(c), c.Packets)
	}
	m.mu.Lock()
	for k, n := range m.overflows {
		add(k, n)
	}
	m.mu.Unlock()
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
		dp.SetStartTimestamp(m.start)
		dp.SetTimestamp(ts)
		dp.SetIntValue(int64(totals[k]))
		attrs := dp.Attributes()
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropOwner] {
			attrs.PutStr(attrOwner, k.owner)
		}
		if k.owner == ownerProcess && m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessPid] {
			attrs.PutInt(attrPID, k.pid)
		}
		if k.owner == ownerProcess && m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessExecutableName] {
			attrs.PutStr(attrExecutable, k.comm)
		}
		if k.container != "" {
			attrs.PutStr(attrContainer, k.container)
		}
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropReason] {
			attrs.PutStr(attrReason, k.reason)
		}
		if k.function != "" {
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

// key is the data point of one kernel count. Only the collecting
// goroutine calls it.
func (m *metricsConverter) key(c probe.Count) packetKey {
	who, ok := m.byInode[c.SocketInode]
	if !ok {
		who = attribute(m.owners, c.SocketInode)
		if len(m.byInode) >= maxRememberedOwners {
			clear(m.byInode)
		}
		m.byInode[c.SocketInode] = who
	}
	function := ""
	if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropKernelFunction] {
		function = m.names.function(c.Location)
	}
	return m.keyFor(who, m.names.reason(c.Reason, c.HasReason), function)
}

// maxRememberedOwners bounds byInode: more than the largest counter map.
const maxRememberedOwners = 2 * maxMaxCounters

// keyFor is the data point for drops of who's, with the attributes the
// configuration keeps.
func (m *metricsConverter) keyFor(who attribution, reason, function string) packetKey {
	k := packetKey{owner: who.status}
	if !m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropOwner] && who.status != ownerProcess {
		k.owner = "" // "none" and "unknown" are one point when not told apart
	}
	if who.status == ownerProcess {
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessPid] {
			k.pid = int64(who.owner.PID)
		}
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyProcessExecutableName] {
			k.comm = who.owner.Comm
		}
		if m.keep[metadata.TCPDropPacketsMetricAttributeKeyContainerID] {
			k.container = who.owner.ContainerID
		}
	}
	if m.keep[metadata.TCPDropPacketsMetricAttributeKeyTCPDropReason] {
		k.reason = reason
	}
	k.function = function
	return k
}
