// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// queueGauge is one of the two gauges, with the attributes it keeps.
type queueGauge struct {
	metric  pmetric.Metric // the generated builder's, without points
	enabled bool
	keep    map[string]bool
	value   func(l *drops.Listener) int64
}

type queueGauges [2]queueGauge

func newQueueGauges(cfg metadata.MetricsBuilderConfig, owned ownerMetrics) queueGauges {
	size, limit := cfg.Metrics.TCPDropListenQueueSize, cfg.Metrics.TCPDropListenQueueLimit
	g := queueGauges{
		{metric: owned.queueSize, enabled: size.Enabled, keep: map[string]bool{},
			value: func(l *drops.Listener) int64 { return int64(l.Backlog) }},
		{metric: owned.queueLimit, enabled: limit.Enabled, keep: map[string]bool{},
			value: func(l *drops.Listener) int64 { return int64(l.MaxBacklog) }},
	}
	for _, k := range size.EnabledAttributes {
		g[0].keep[string(k)] = true
	}
	for _, k := range limit.EnabledAttributes {
		g[1].keep[string(k)] = true
	}
	return g
}

// append adds a data point per listener to each enabled gauge, under the
// listener's owner's Resource.
func (g *queueGauges) append(byOwner *metricsByResource, ls []drops.Listener, start, ts pcommon.Timestamp) {
	if len(ls) == 0 {
		return
	}
	for _, q := range g {
		if !q.enabled {
			continue
		}
		byRes := map[resourceKey]pmetric.NumberDataPointSlice{}
		for i := range ls {
			l := &ls[i]
			k := byOwner.res.ofOwner(l.Owner)
			ps, ok := byRes[k]
			if !ok {
				ps = appendMetric(q.metric, byOwner.metrics(k))
				byRes[k] = ps
			}
			dp := ps.AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(ts)
			dp.SetIntValue(q.value(l))
			attrs := dp.Attributes()
			if q.keep[attrLocalAddress] {
				attrs.PutStr(attrLocalAddress, l.Addr.Addr().Unmap().String())
			}
			if q.keep[attrLocalPort] {
				attrs.PutInt(attrLocalPort, int64(l.Addr.Port()))
			}
			if q.keep[attrNetns] {
				attrs.PutInt(attrNetns, int64(l.Netns))
			}
		}
	}
}
