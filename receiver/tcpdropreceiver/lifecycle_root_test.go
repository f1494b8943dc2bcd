// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// TestLifecycleWithTheKernel: the generated lifecycle test, with the real
// probe. Both pipelines attach one program, Shutdown detaches it, twice is
// fine; TestMain checks for leaked goroutines.
func TestLifecycleWithTheKernel(t *testing.T) {
	roottest.Require(t)
	cfg := createDefaultConfig()
	lr, mr := createBoth(t, cfg, new(consumertest.LogsSink), new(consumertest.MetricsSink))
	host := componenttest.NewNopHost()
	before := heldProbePrograms(t, os.Getpid())

	require.NoError(t, lr.Start(context.Background(), host))
	require.NoError(t, mr.Start(context.Background(), host))
	require.Equal(t, before+1, heldProbePrograms(t, os.Getpid()), "logs and metrics pipelines attach one program")

	require.NoError(t, lr.Shutdown(context.Background()))
	require.NoError(t, mr.Shutdown(context.Background()))
	require.NoError(t, mr.Shutdown(context.Background()))
	require.Equal(t, before, heldProbePrograms(t, os.Getpid()), "Shutdown detaches the program")
}

// TestShutdownDeliversEverything: drops still in the ring and counts not
// yet collected when the collector shuts down are delivered, not lost.
func TestShutdownDeliversEverything(t *testing.T) {
	roottest.Require(t)
	cfg := createDefaultConfig()
	cfg.FlushInterval = 10 * time.Second           // the events wait in the ring
	cfg.CollectionInterval = maxCollectionInterval // no collection before Shutdown
	logs, metrics := new(consumertest.LogsSink), new(consumertest.MetricsSink)
	lr, mr := createBoth(t, cfg, logs, metrics)
	host := componenttest.NewNopHost()

	// Drops of a listener this process owns, so that the metric's
	// process.pid tells them from the machine's other drops. Start reads
	// the listeners once, before any drop.
	ns := sandbox.NewForTest(t)
	addr, rule := firewalledListener(t, ns, "127.0.0.1:0", 8)
	require.NoError(t, lr.Start(context.Background(), host))
	require.NoError(t, mr.Start(context.Background(), host))

	require.NoError(t, ns.ConnectTimeout(addr, 5, 50*time.Millisecond))
	dropped, err := rule.Packets()
	require.NoError(t, err)
	require.NoError(t, lr.Shutdown(context.Background()))
	require.NoError(t, mr.Shutdown(context.Background()))

	delivered := len(sinkRecords(logs, func(a map[string]any) bool {
		return a[attrKind] == "drop" && attrInt(a, attrNetns) == int64(ns.Inode())
	}))
	require.Equal(t, int(dropped), delivered, "log records for the drops made before Shutdown")

	require.Len(t, metrics.AllMetrics(), 1, "one collection: the final one")
	counted, _ := sumPoints(metrics.AllMetrics()[0], packetsName, func(dp pmetric.NumberDataPoint) bool {
		return attrInt(dp.Attributes().AsRaw(), attrPID) == int64(os.Getpid())
	})
	require.Equal(t, int64(dropped), counted, "tcp_drop.packets of this process's listener in the final collection")
}
