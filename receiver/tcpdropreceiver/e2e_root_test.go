// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tcpdrop/tcpdrop/harness/collector"
	"github.com/tcpdrop/tcpdrop/harness/otlpsink"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

const e2eConfig = `
receivers:
  tcp_drop:
    collection_interval: 500ms
    flush_interval: 10ms
    max_log_records_per_second: 0  # other drops on the machine must not shed ours
    log_records_per_key: 0         # a record per drop: the test counts them
    listen_queues:
      poll_interval: 100ms
exporters:
  otlp_http:
    endpoint: %s
    compression: none
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [tcp_drop]
      exporters: [otlp_http]
    metrics:
      receivers: [tcp_drop]
      exporters: [otlp_http]
`

// TestCollectorEndToEnd builds the collector with ocb, runs it, makes drops
// in a fresh network namespace - SYNs a firewall rule drops on their way to
// a listener this test holds - and finds exactly one log record per packet
// the rule counted, naming this process as the owner, and the metric grown
// by exactly that many.
func TestCollectorEndToEnd(t *testing.T) {
	roottest.Require(t)
	bin := buildCollector(t)
	backend := otlpsink.ForTest(t, otlpsink.HTTP)
	// The namespace of the drops is held only by this process's descriptor,
	// which the collector finds by a scan of every process's descriptors:
	// its first poll makes one, the next comes after 1000 times the last
	// one's duration (listeners.fdScanShare). Made before the collector
	// starts, the namespace is found at that first scan; made later, it was
	// found only at the next, 136 s later in an emulated arm64 guest (a
	// scan of 136 ms there), beyond the wait below.
	ns := sandbox.NewForTest(t)

	otelcol := collector.ForTest(t, bin, []byte(fmt.Sprintf(e2eConfig, backend.URL)))

	// Ready when the first metrics arrive.
	require.Eventually(t, func() bool { return backend.Metrics.DataPointCount() > 0 },
		30*time.Second, 50*time.Millisecond, "no metrics from the collector")
	require.Equal(t, 1, heldProbePrograms(t, otelcol.Pid), "logs and metrics pipelines attach one program")

	nfDrop := reasonOnThisKernel(t, "NETFILTER_DROP")
	for _, tc := range []struct {
		listen string
		count  int
	}{
		{"127.0.0.1:0", 20},
		{"[::1]:0", 10},
	} {
		addr, rule := firewalledListener(t, ns, tc.listen, 16)

		// The collector knows the listener, and its owner, once its gauge
		// shows up.
		listening := func(dp pmetric.NumberDataPoint) bool {
			a := dp.Attributes().AsRaw()
			return attrInt(a, attrPID) == int64(os.Getpid()) && attrInt(a, attrLocalPort) == int64(addr.Port()) &&
				attrInt(a, attrNetns) == int64(ns.Inode())
		}
		require.Eventually(t, func() bool { return sinkTotal(backend.Metrics, queueLimitName, listening) == 16 },
			30*time.Second, 50*time.Millisecond, "no tcp_drop.listen.queue.limit for the listener")

		mine := func(dp pmetric.NumberDataPoint) bool {
			a := dp.Attributes().AsRaw()
			return attrInt(a, attrPID) == int64(os.Getpid()) && a[attrReason] == nfDrop
		}
		before := sinkTotal(backend.Metrics, packetsName, mine)
		require.NoError(t, ns.ConnectTimeout(addr, tc.count, 50*time.Millisecond))
		dropped, err := rule.Packets()
		require.NoError(t, err)
		require.GreaterOrEqual(t, dropped, uint64(tc.count), "the rule dropped every SYN")

		ours := func(a map[string]any) bool {
			return a[attrKind] == "drop" && attrInt(a, attrNetns) == int64(ns.Inode()) && attrInt(a, attrDstPort) == int64(addr.Port())
		}
		grown := func() bool {
			now := sinkTotal(backend.Metrics, packetsName, mine)
			return len(sinkRecords(backend.Logs, ours)) >= int(dropped) && now-before >= int64(dropped)
		}
		require.Eventually(t, grown, 30*time.Second, 50*time.Millisecond, "drops did not arrive")
		time.Sleep(time.Second) // two collections more: any extra would show

		records := sinkRecords(backend.Logs, ours)
		require.Len(t, records, int(dropped), "one log record per packet the rule dropped")
		for _, lr := range records {
			a := lr.Attributes().AsRaw()
			require.Equal(t, nfDrop, a[attrReason])
			require.Equal(t, ownerProcess, a[attrOwner])
			require.Equal(t, int64(os.Getpid()), attrInt(a, attrPID), "the listener's owner")
			require.Equal(t, addr.Addr().String(), a[attrSrcAddress])
			require.Equal(t, "SYN", a[attrTCPFlags])
			require.Contains(t, lr.Body().Str(), fmt.Sprintf("Drop | PID: %d (", os.Getpid()))
		}
		// The owner is the records' Resource, not among their own
		// attributes; the Resource names the node too.
		host, err := os.Hostname()
		require.NoError(t, err)
		for _, r := range otlpsink.Records(backend.Logs.AllLogs(), func(r otlpsink.Record) bool { return ours(r.All()) }) {
			require.Equal(t, int64(os.Getpid()), attrInt(r.Resource, attrPID), "the Resource names the owner")
			require.Equal(t, host, r.Resource[attrHost])
			require.NotContains(t, r.Attrs, attrPID)
			require.Equal(t, ownerProcess, r.Attrs[attrOwner])
		}
		after := sinkTotal(backend.Metrics, packetsName, mine)
		require.Equal(t, int64(dropped), after-before, "tcp_drop.packets grew by the packets the rule dropped")
	}

	_, err := otelcol.Stop(20 * time.Second)
	require.NotErrorIs(t, err, collector.ErrTimeout, "the collector did not exit within 20s of SIGTERM")
	require.NoError(t, err, "the collector exits cleanly on SIGTERM")
}

func anyPoint(pmetric.NumberDataPoint) bool { return true }

func attrInt(attrs map[string]any, key string) int64 {
	v, _ := attrs[key].(int64)
	return v
}

// buildCollector is the collector the tests run (harness/collector's
// Binary), with the versions ocb resolved checked when it built it.
func buildCollector(t *testing.T) string {
	t.Helper()
	bin := collector.BinaryForTest(t)
	if os.Getenv(collector.EnvBinary) == "" {
		checkDistributionVersions(t, filepath.Join(filepath.Dir(bin), "go.mod"))
	}
	return bin
}
