// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"

	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// The metrics whose points sit under their owners' Resources (the counts
// of each kind: tcp_drop.packets, tcp_drop.resets, tcp_drop.retransmits,
// tcp_drop.connects.failed; the listen-queue gauges) are made by the generated
// builder (name, unit, description and kind, from metadata.yaml) and get
// their points here, because the builder's points cannot be what these
// points are:
//   - a point leaves out an attribute that has no value (an overflow has no
//     kernel function, a packet without a socket no state); the builder
//     writes every enabled attribute, "" included;
//   - each tcp_drop.packets point starts when its series did (a series that
//     expired starts again); the builder gives every point one start;
//   - the builder finds an equal point by a scan of the metric's points for
//     each new one, quadratic in a Resource's points (up to max_counters
//     keys, every listener of a host), and merges equal ones, where two
//     listeners on one address (SO_REUSEPORT) are two queues;
//   - EmitForResource makes a ResourceMetrics per call: an owner's packets
//     and queue gauges could not share one unless both came from it.

// ownerMetrics are the generated builder's metrics, without points:
// each Resource that has points of one gets a copy.
type ownerMetrics struct {
	packets, resets, retransmits, failedConnects, queueSize, queueLimit pmetric.Metric
}

func newOwnerMetrics(set receiver.Settings) ownerMetrics {
	cfg := metadata.NewDefaultMetricsBuilderConfig()
	cfg.Metrics.TCPDropPackets.Enabled = true
	cfg.Metrics.TCPDropResets.Enabled = true
	cfg.Metrics.TCPDropRetransmits.Enabled = true
	cfg.Metrics.TCPDropConnectsFailed.Enabled = true
	cfg.Metrics.TCPDropListenQueueSize.Enabled = true
	cfg.Metrics.TCPDropListenQueueLimit.Enabled = true
	mb := metadata.NewMetricsBuilder(cfg, set)
	made := func(record func()) pmetric.Metric {
		record()
		m := mb.Emit().ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0)
		all := func(pmetric.NumberDataPoint) bool { return true }
		switch m.Type() {
		case pmetric.MetricTypeSum:
			m.Sum().DataPoints().RemoveIf(all)
		case pmetric.MetricTypeGauge:
			m.Gauge().DataPoints().RemoveIf(all)
		}
		return m
	}
	return ownerMetrics{
		packets: made(func() { mb.RecordTCPDropPacketsDataPoint(0, 0, metadata.AttributeTCPDropOwnerNone, "", "", 0) }),
		resets:  made(func() { mb.RecordTCPDropResetsDataPoint(0, 0, metadata.AttributeTCPDropOwnerNone, "", 0) }),
		retransmits: made(func() {
			mb.RecordTCPDropRetransmitsDataPoint(0, 0, metadata.AttributeTCPDropOwnerNone, "", 0)
		}),
		failedConnects: made(func() { mb.RecordTCPDropConnectsFailedDataPoint(0, 0, metadata.AttributeTCPDropOwnerNone, "") }),
		queueSize:      made(func() { mb.RecordTCPDropListenQueueSizeDataPoint(0, 0, "", 0, 0) }),
		queueLimit:     made(func() { mb.RecordTCPDropListenQueueLimitDataPoint(0, 0, "", 0, 0) }),
	}
}

// appendMetric adds a copy of metric to ms and returns its points, empty.
func appendMetric(metric pmetric.Metric, ms pmetric.MetricSlice) pmetric.NumberDataPointSlice {
	m := ms.AppendEmpty()
	metric.CopyTo(m)
	if m.Type() == pmetric.MetricTypeSum {
		return m.Sum().DataPoints()
	}
	return m.Gauge().DataPoints()
}
