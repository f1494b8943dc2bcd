// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tcpdrop/tcpdrop/harness/dropgen"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/drops"
)

// TestPointsOnTimeAfterFloods: 20 times, a one-second full-rate flood of
// SYNs that an nft rule drops on their way to a listener of this process,
// and, two collection intervals after the flood, the newest
// tcp_drop.packets point of this process equals the rule's counter: no
// collection under or after a flood is late enough to leave a stale point.
// The receiver runs at its defaults but for a 1s collection interval. The
// longest tcp_drop.collection.delay seen is logged.
func TestPointsOnTimeAfterFloods(t *testing.T) {
	roottest.Require(t)
	ns := sandbox.NewForTest(t)
	addr, _, rule := firewalledSocket(t, ns)
	const interval = time.Second
	_, metrics, _ := startKernelReceiver(t, func(cfg *Config) {
		cfg.CollectionInterval = interval
		cfg.FlushInterval = drops.DefaultOptions().FlushInterval
		cfg.LogRecordsPerKey = drops.DefaultOptions().LogRecordsPerKey
		cfg.MaxLogRecordsPerSecond = drops.DefaultOptions().MaxLogRecordsPerSecond
		cfg.ListenQueues.PollInterval = drops.DefaultOptions().ListenQueues.PollInterval
	})
	me := int64(os.Getpid())
	waitForListener(t, metrics, ns, addr, int(me), 16)
	// The rule's drops: in netfilter (nf_hook_slow on 5.10). A flood may
	// also overflow a CPU's backlog before netfilter, on a slow guest: the
	// listener's drops too, but not the rule's.
	mine := func(dp pmetric.NumberDataPoint) bool {
		a := dp.Attributes().AsRaw()
		return attrInt(a, attrPID) == me && (a[attrFunction] == "nft_do_chain" || a[attrFunction] == "nf_hook_slow")
	}

	for i := range 20 {
		flood, err := dropgen.Run(context.Background(), ns, dropgen.Options{Port: int(addr.Port()), Firewalled: true, Duration: time.Second})
		require.NoError(t, err)
		dropped := rulePackets(t, rule)
		time.Sleep(2 * interval) // the time is what is tested: the point must be on time
		got := sinkTotal(metrics, packetsName, mine)
		if got != int64(dropped) {
			ofMine := func(dp pmetric.NumberDataPoint) bool { return attrInt(dp.Attributes().AsRaw(), attrPID) == me }
			last := metrics.AllMetrics()[len(metrics.AllMetrics())-1]
			t.Logf("this process's drops by reason and function: %v; the longest tcp_drop.collection.delay so far %v",
				pointsBy(last, packetsName, ofMine), longestDelay(metrics))
		}
		require.Equal(t, int64(dropped), got, "flood %d (%d SYNs): tcp_drop.packets of this process two intervals after = the rule's counter", i+1, flood.Sent)
	}
	t.Logf("20 floods, %d SYNs dropped by the rule, every point on time; longest tcp_drop.collection.delay %v",
		rulePackets(t, rule), longestDelay(metrics))
}

// longestDelay is the longest tcp_drop.collection.delay in the sink.
func longestDelay(sink *consumertest.MetricsSink) time.Duration {
	var longest float64
	for _, md := range sink.AllMetrics() {
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			for j := 0; j < rms.At(i).ScopeMetrics().Len(); j++ {
				ms := rms.At(i).ScopeMetrics().At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					if ms.At(k).Name() == "tcp_drop.collection.delay" && ms.At(k).Type() == pmetric.MetricTypeGauge {
						longest = max(longest, ms.At(k).Gauge().DataPoints().At(0).DoubleValue())
					}
				}
			}
		}
	}
	return time.Duration(longest * float64(time.Second))
}

// pointsBy is metric name's points keep accepts, by reason and function.
func pointsBy(md pmetric.Metrics, name string, keep func(pmetric.NumberDataPoint) bool) map[string]int64 {
	by := map[string]int64{}
	sumPoints(md, name, func(dp pmetric.NumberDataPoint) bool {
		if keep(dp) {
			a := dp.Attributes().AsRaw()
			by[fmt.Sprint(a[attrReason], " ", a[attrFunction])] += dp.IntValue()
		}
		return false
	})
	return by
}
