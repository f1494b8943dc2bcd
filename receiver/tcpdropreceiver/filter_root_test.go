// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

const (
	filteredName = "tcp_drop.events.filtered"
	repeatedName = "tcp_drop.events.repeated"
)

// TestExcludedReasonIsCountedNotLogged: with logs::exclude_reasons
// [NETFILTER_DROP], SYNs an nft rule drops on their way to this process's
// listener make no log record, while tcp_drop.packets counts them for the
// listener's owner, as many as the rule's own counter, and
// tcp_drop.events.filtered equals every NETFILTER_DROP counted. At the end,
// after Shutdown, records + lost + shed + filtered = packets exactly, over
// every drop kfree_skb saw on the machine. Before 5.17 (no reasons) nothing
// is filtered: the records are there, filtered is 0.
func TestExcludedReasonIsCountedNotLogged(t *testing.T) {
	roottest.Require(t)
	ns := sandbox.NewForTest(t)
	addr, rule := firewalledListener(t, ns, "127.0.0.1:0", 16)
	nfDrop := reasonOnThisKernel(t, "NETFILTER_DROP")

	logs, metrics, shutdown := startKernelReceiver(t, func(cfg *Config) { cfg.Logs.ExcludeReasons = []string{"NETFILTER_DROP"} })

	me := int64(os.Getpid())
	waitForListener(t, metrics, ns, addr, int(me), 16)
	require.NoError(t, ns.ConnectTimeout(addr, 5, 50*time.Millisecond))
	dropped, err := rule.Packets()
	require.NoError(t, err)
	require.GreaterOrEqual(t, dropped, uint64(5))

	mine := func(dp pmetric.NumberDataPoint) bool {
		at := dp.Attributes().AsRaw()
		return attrInt(at, attrPID) == me && at[attrReason] == nfDrop
	}
	require.Eventually(t, func() bool { return sinkTotal(metrics, packetsName, mine) >= int64(dropped) },
		10*time.Second, 20*time.Millisecond, "the drops were not counted")
	time.Sleep(300 * time.Millisecond) // a record would show up here
	shutdown()

	require.Equal(t, int64(dropped), sinkTotal(metrics, packetsName, mine), "tcp_drop.packets for the listener's owner = the nft counter")
	records := sinkRecords(logs, func(at map[string]any) bool {
		return attrInt(at, attrNetns) == int64(ns.Inode()) && attrInt(at, attrDstPort) == int64(addr.Port())
	})
	final := metrics.AllMetrics()[len(metrics.AllMetrics())-1]
	filtered, _ := sumPoints(final, filteredName, anyPoint)
	nfCounted, _ := sumPoints(final, packetsName, func(dp pmetric.NumberDataPoint) bool {
		return dp.Attributes().AsRaw()[attrReason] == nfDrop
	})
	if nfDrop == notAvailable {
		require.Len(t, records, int(dropped), "no reasons on this kernel: nothing filtered")
		require.Zero(t, filtered)
	} else {
		require.Empty(t, records, "NETFILTER_DROP is excluded")
		require.Equal(t, nfCounted, filtered, "filtered = every NETFILTER_DROP counted (machine-wide)")
		require.GreaterOrEqual(t, filtered, int64(dropped))
	}
	requireRecordsAddUp(t, logs, final)
}

// requireRecordsAddUp checks, on the metrics collected at Shutdown (the
// program detached, the ring drained), that every drop kfree_skb saw is a
// record, a repeat (summed from the summary records, and equal to
// tcp_drop.events.repeated), lost, shed or filtered, and every reset,
// retransmitted segment and failed connect too: records (a retransmission's
// counting its segments) + repeats + lost + shed + filtered = packets +
// resets + retransmits + connects.failed.
// Listen overflows come from the watcher (no kernel function), with a
// record per listener and poll: they are left out of both sides.
func requireRecordsAddUp(t *testing.T, logs *consumertest.LogsSink, final pmetric.Metrics) {
	t.Helper()
	packets, _ := sumPoints(final, packetsName, func(dp pmetric.NumberDataPoint) bool {
		return dp.Attributes().AsRaw()[attrFunction] != ""
	})
	var others int64 // resets, retransmitted segments, failed connects
	for _, name := range []string{resetsName, retransmitsName, failedConnectsName} {
		n, _ := sumPoints(final, name, anyPoint)
		others += n
	}
	var losses int64
	for _, name := range []string{"tcp_drop.events.lost", "tcp_drop.events.shed", filteredName} {
		v, ok := sumPoints(final, name, anyPoint)
		require.True(t, ok, "no %s", name)
		losses += v
	}
	uncounted, _ := sumPoints(final, "tcp_drop.packets.uncounted", anyPoint)
	require.Zero(t, uncounted)
	records, repeats := recordsAndRepeats(logs, func(map[string]any) bool { return true })
	repeated, ok := sumPoints(final, repeatedName, anyPoint)
	require.True(t, ok, "no %s", repeatedName)
	require.Equal(t, repeated, repeats, "the summary records' tcp_drop.repeats add up to tcp_drop.events.repeated")
	require.Equal(t, packets+others, records+repeats+losses,
		"records %d + repeats %d + lost, shed and filtered %d = packets %d + resets, retransmits and failed connects %d",
		records, repeats, losses, packets, others)
}

// recordsAndRepeats counts the records keep accepts (a record per drop, a
// retransmission's its segments) and sums the repeats of the summary
// records it accepts.
func recordsAndRepeats(logs *consumertest.LogsSink, keep func(map[string]any) bool) (records, repeats int64) {
	for _, lr := range sinkRecords(logs, func(at map[string]any) bool { _, ok := at[attrKind]; return ok && keep(at) }) {
		if v, ok := lr.Attributes().Get(attrRepeats); ok {
			repeats += v.Int()
		} else if v, ok := lr.Attributes().Get(attrSegments); ok {
			records += v.Int()
		} else {
			records++
		}
	}
	return records, repeats
}

// TestStateOnRecords: a connection's data, dropped by an nft output rule
// while it belongs to its socket, is logged with network.connection.state
// established; a SYN to a closed port (no socket) without the attribute.
// With the opt-in metric attribute on, tcp_drop.packets has the state too.
func TestStateOnRecords(t *testing.T) {
	roottest.Require(t)
	ns := sandbox.NewForTest(t)
	fd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 4)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Close(fd) })
	addr, err := sandbox.LocalAddr(fd)
	require.NoError(t, err)
	conns, err := ns.StartConnects(addr, 1)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Close(conns[0]) })
	require.NoError(t, sandbox.WaitAccepted(fd, 1, 5*time.Second), "the handshake")
	rule, err := ns.DropTCPPortOutput(addr.Port())
	require.NoError(t, err)

	logs, metrics, _ := startKernelReceiver(t, func(cfg *Config) {
		cfg.Metrics.TCPDropPackets.EnabledAttributes = append(cfg.Metrics.TCPDropPackets.EnabledAttributes, "network.connection.state")
	})

	_, err = unix.Write(conns[0], []byte("data the output rule drops"))
	require.NoError(t, err)
	require.NoError(t, ns.ConnectRefused(netip.AddrPortFrom(addr.Addr(), 9), 1))
	inNs := func(port int64) func(at map[string]any) bool {
		return func(at map[string]any) bool {
			return at[attrKind] == "drop" && attrInt(at, attrNetns) == int64(ns.Inode()) && attrInt(at, attrDstPort) == port
		}
	}
	require.Eventually(t, func() bool {
		return len(sinkRecords(logs, inNs(int64(addr.Port())))) >= 2 && len(sinkRecords(logs, inNs(9))) == 1
	}, 10*time.Second, 20*time.Millisecond, "the drops were not logged")
	for _, lr := range sinkRecords(logs, inNs(int64(addr.Port()))) {
		require.Equal(t, "established", lr.Attributes().AsRaw()[attrConnectionState])
	}
	_, has := sinkRecords(logs, inNs(9))[0].Attributes().Get(attrConnectionState)
	require.False(t, has, "a SYN to a closed port has no socket, so no state")
	dropped, err := rule.Packets()
	require.NoError(t, err)
	established := func(dp pmetric.NumberDataPoint) bool {
		return dp.Attributes().AsRaw()[attrConnectionState] == "established"
	}
	require.Eventually(t, func() bool { return sinkTotal(metrics, packetsName, established) >= int64(dropped) },
		10*time.Second, 20*time.Millisecond, "tcp_drop.packets{network.connection.state=established}")
}

// TestFilteredOverflowsAreCountedNotLogged: a backlog-1 server that never
// accepts is sent 8 connections at once (its SYNs overflow the queue, and
// their retransmissions again), with its overflows left out of the logs by
// exclude_reasons [TCP_LISTEN_OVERFLOW], or by ports naming another port.
// The watcher, not the kernel program, finds overflows, so these filters are
// applied in user space, to the same effect: no overflow record of the
// server's, tcp_drop.packets{reason=TCP_LISTEN_OVERFLOW} of its namespace =
// the namespace's TcpExt:ListenOverflows, and tcp_drop.events.filtered = all
// that was counted and left out. Before 5.17 (no reasons) the reason filter
// leaves nothing out, as for the program's drops: the records are there.
func TestFilteredOverflowsAreCountedNotLogged(t *testing.T) {
	roottest.Require(t)
	byReason := reasonOnThisKernel(t, "NO_SOCKET") != notAvailable
	for _, tc := range []struct {
		name   string
		logs   LogsConfig
		logged bool // the server's overflows are still logged
	}{
		{"exclude_reasons", LogsConfig{ExcludeReasons: []string{listenOverflowReason}}, !byReason},
		{"ports", LogsConfig{Ports: []int{1}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := sandbox.NewForTest(t)
			fd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 1)
			require.NoError(t, err)
			t.Cleanup(func() { _ = unix.Close(fd) })
			addr, err := sandbox.LocalAddr(fd)
			require.NoError(t, err)
			logs, metrics, shutdown := startKernelReceiver(t, func(cfg *Config) { cfg.Logs = tc.logs })
			waitForListener(t, metrics, ns, addr, os.Getpid(), 1)
			clients, err := ns.StartConnects(addr, 8)
			require.NoError(t, err)
			t.Cleanup(func() {
				for _, c := range clients {
					_ = unix.Close(c)
				}
			})
			serversOverflows := func(dp pmetric.NumberDataPoint) bool {
				at := dp.Attributes().AsRaw()
				return at[attrReason] == listenOverflowReason && attrInt(at, attrPID) == int64(os.Getpid())
			}
			overflows := func() int64 {
				n, err := ns.Netstat()
				require.NoError(t, err)
				return int64(n["TcpExt:ListenOverflows"])
			}
			time.Sleep(1500 * time.Millisecond) // a retransmission overflows again
			require.Eventually(t, func() bool { o := overflows(); return o > 0 && sinkTotal(metrics, packetsName, serversOverflows) == o },
				10*time.Second, 20*time.Millisecond, "tcp_drop.packets of the server's overflows never equalled the namespace's ListenOverflows")
			shutdown()

			final := metrics.AllMetrics()[len(metrics.AllMetrics())-1]
			counted, _ := sumPoints(final, packetsName, serversOverflows)
			require.GreaterOrEqual(t, counted, overflows()-1, "the final counts lost overflows") // at most a retransmission since
			records := sinkRecords(logs, func(at map[string]any) bool {
				return attrInt(at, attrNetns) == int64(ns.Inode()) && at[attrReason] == listenOverflowReason
			})
			var logged int64
			for _, r := range records {
				v, _ := r.Attributes().Get(attrOverflows)
				logged += v.Int()
			}
			filtered, _ := sumPoints(final, filteredName, anyPoint)
			// What the filter leaves out, counted machine-wide: every
			// overflow (exclude_reasons), or every drop, reset,
			// retransmitted segment and failed connect (ports).
			leftOut, _ := sumPoints(final, packetsName, func(dp pmetric.NumberDataPoint) bool {
				return tc.name == "ports" || dp.Attributes().AsRaw()[attrReason] == listenOverflowReason
			})
			if tc.name == "ports" {
				for _, name := range []string{resetsName, retransmitsName, failedConnectsName} {
					n, _ := sumPoints(final, name, anyPoint)
					leftOut += n
				}
			}
			if tc.logged {
				require.Equal(t, counted, logged, "no reasons on this kernel: the overflows are logged")
				require.Zero(t, filtered)
			} else {
				require.Empty(t, records, "the server's overflows are left out of the logs")
				require.Equal(t, leftOut, filtered, "tcp_drop.events.filtered = what the filter left out")
			}
			t.Logf("%s: %d overflows counted, %d logged, filtered %d (machine-wide)", tc.name, counted, logged, filtered)
		})
	}
}
