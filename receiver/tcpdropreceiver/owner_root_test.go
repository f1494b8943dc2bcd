// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/otlpsink"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
)

// startKernelReceiver starts a receiver with the real probe, reading often,
// with the changes of configure made to its configuration, and shuts it
// down at the end of the test, or when the test calls shutdown (after which
// the sinks hold the final records and counts).
func startKernelReceiver(t *testing.T, configure ...func(*Config)) (logs *consumertest.LogsSink, metrics *consumertest.MetricsSink, shutdown func()) {
	t.Helper()
	logs, metrics, start, shutdown := newKernelReceiver(t, configure...)
	start()
	return logs, metrics, shutdown
}

// newKernelReceiver is startKernelReceiver in two steps: the receiver is
// created (as the collector creates it before starting it), and started
// by start, which may run on another goroutine.
func newKernelReceiver(t *testing.T, configure ...func(*Config)) (logs *consumertest.LogsSink, metrics *consumertest.MetricsSink, start, shutdown func()) {
	t.Helper()
	cfg := createDefaultConfig()
	cfg.CollectionInterval = 100 * time.Millisecond
	cfg.FlushInterval = 10 * time.Millisecond
	cfg.MaxLogRecordsPerSecond = 0
	cfg.LogRecordsPerKey = 0 // a record per drop: the tests count them
	cfg.ListenQueues.PollInterval = 100 * time.Millisecond
	for _, c := range configure {
		c(cfg)
	}
	logs, metrics = new(consumertest.LogsSink), new(consumertest.MetricsSink)
	lr, mr := createBoth(t, cfg, logs, metrics)
	start = func() {
		assert.NoError(t, lr.Start(context.Background(), componenttest.NewNopHost()))
		assert.NoError(t, mr.Start(context.Background(), componenttest.NewNopHost()))
	}
	shutdown = func() { // safe twice
		require.NoError(t, lr.Shutdown(context.Background()))
		require.NoError(t, mr.Shutdown(context.Background()))
	}
	t.Cleanup(shutdown)
	return logs, metrics, start, shutdown
}

// firewalledListener opens a listener in ns, held by this process until
// the test ends, behind an nftables rule that drops every packet to its
// port.
func firewalledListener(t *testing.T, ns *sandbox.Netns, listen string, backlog int) (netip.AddrPort, *sandbox.NftRule) {
	t.Helper()
	fd, err := ns.Listen(netip.MustParseAddrPort(listen), backlog)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Close(fd) })
	addr, err := sandbox.LocalAddr(fd)
	require.NoError(t, err)
	rule, err := ns.DropTCPPort(addr.Port())
	require.NoError(t, err)
	return addr, rule
}

// makeCgroup creates a cgroup named like a docker container's and returns
// its directory and its path as /proc/<pid>/cgroup shows it.
func makeCgroup(t *testing.T, id string) (dir, cgroupPath string) {
	t.Helper()
	mnt, root, err := sandbox.Cgroup2Mount()
	if err != nil {
		t.Skipf("cannot test cgroups here: %v", err)
	}
	parent := fmt.Sprintf("tcpdrop-receiver-test-%d", os.Getpid())
	name := parent + "/docker-" + id + ".scope"
	for _, g := range []string{parent, name} {
		d := filepath.Join(mnt, g)
		require.NoError(t, os.Mkdir(d, 0o755))
		t.Cleanup(func() { require.NoError(t, sandbox.RemoveCgroup(d)) }) // inner first
	}
	return filepath.Join(mnt, name), path.Join(root, name)
}

// waitForListener waits until the receiver reports the listener at addr in
// ns, owned by pid, with the given accept-queue limit: from then on it
// knows the listener (and its overflows count from that poll on).
func waitForListener(t *testing.T, metrics *consumertest.MetricsSink, ns *sandbox.Netns, addr netip.AddrPort, pid, limit int) {
	t.Helper()
	theListener := func(dp pmetric.NumberDataPoint) bool {
		a := dp.Attributes().AsRaw()
		return attrInt(a, attrPID) == int64(pid) && attrInt(a, attrLocalPort) == int64(addr.Port()) &&
			attrInt(a, attrNetns) == int64(ns.Inode()) && dp.IntValue() == int64(limit)
	}
	require.Eventually(t, func() bool { return sinkTotal(metrics, queueLimitName, theListener) > 0 },
		10*time.Second, 20*time.Millisecond, "the receiver did not report the listener %v of pid %d", addr, pid)
}

// requireOwnedBy checks that a record's attributes (its Resource's among
// them) name process pid as its owner.
func requireOwnedBy(t *testing.T, at map[string]any, pid int, who string) {
	t.Helper()
	require.Equal(t, ownerProcess, at[attrOwner])
	require.Equal(t, int64(pid), attrInt(at, attrPID), who)
}

// sinkTotal is the newest value of metric name in the sink, summed over the
// data points keep accepts.
func sinkTotal(sink *consumertest.MetricsSink, name string, keep func(pmetric.NumberDataPoint) bool) int64 {
	var total int64
	for _, md := range sink.AllMetrics() {
		if v, ok := sumPoints(md, name, keep); ok {
			total = v
		}
	}
	return total
}

// sinkRecords returns the log records keep accepts, each with its
// Resource's attributes among its own.
func sinkRecords(sink *consumertest.LogsSink, keep func(a map[string]any) bool) []plog.LogRecord {
	var out []plog.LogRecord
	for _, r := range otlpsink.Records(sink.AllLogs(), func(r otlpsink.Record) bool { return keep(r.All()) }) {
		out = append(out, r.Merged())
	}
	return out
}

// reasonOnThisKernel is the tcp_drop.reason of drops that kernels from 5.17
// on give the reason name: name, or NOT_AVAILABLE before.
func reasonOnThisKernel(t *testing.T, name string) string {
	t.Helper()
	reasons, err := dropreason.FromKernel()
	require.NoError(t, err)
	if !reasons.Available() {
		return notAvailable
	}
	_, ok := reasons.Value(name)
	require.True(t, ok, "the running kernel has drop reasons, but not %s", name)
	return name
}

// TestDropsNameTheListenersOwner: a listener owned by process A (in a
// cgroup named like a container's) receives SYNs sent by this process, B,
// which a firewall rule drops before they reach it (reason NETFILTER_DROP,
// NOT_AVAILABLE before 5.17). The records name A as
// process.pid, with its cgroup and container, and B (or the softirq
// context) as tcp_drop.context.pid; the metric counts them for A, as many
// as the rule's own counter. The listener is bound to the SYNs' address,
// or it is a dual-stack IPv6 socket on any address, which the kernel would
// have given the IPv4 SYNs to.
func TestDropsNameTheListenersOwner(t *testing.T) {
	roottest.Require(t)
	for _, listen := range []string{"127.0.0.1:0", "[::]:0"} {
		t.Run(listen, func(t *testing.T) {
			const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			dir, cgroupPath := makeCgroup(t, id)
			ns := sandbox.NewForTest(t)
			if strings.HasPrefix(listen, "[") && !ns.HasIPv6() {
				t.Skip("no IPv6 in this kernel")
			}
			owner, addr := ns.ListenInChildForTest(t, listen, 16, dir)
			dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), addr.Port())
			rule, err := ns.DropTCPPort(addr.Port())
			require.NoError(t, err)
			a := owner.Process.Pid

			nfDrop := reasonOnThisKernel(t, "NETFILTER_DROP")
			logs, metrics, _ := startKernelReceiver(t)
			waitForListener(t, metrics, ns, addr, a, 16)
			require.NoError(t, ns.ConnectTimeout(dst, 5, 50*time.Millisecond))
			dropped, err := rule.Packets()
			require.NoError(t, err)
			require.GreaterOrEqual(t, dropped, uint64(5))

			ours := func(at map[string]any) bool {
				return at[attrKind] == "drop" && attrInt(at, attrNetns) == int64(ns.Inode()) && attrInt(at, attrDstPort) == int64(addr.Port())
			}
			forA := func(dp pmetric.NumberDataPoint) bool {
				at := dp.Attributes().AsRaw()
				return attrInt(at, attrPID) == int64(a) && at[attrReason] == nfDrop
			}
			require.Eventually(t, func() bool {
				return len(sinkRecords(logs, ours)) >= int(dropped) && sinkTotal(metrics, packetsName, forA) >= int64(dropped)
			}, 10*time.Second, 20*time.Millisecond, "the drops did not arrive")
			time.Sleep(300 * time.Millisecond) // any extra would show

			records := sinkRecords(logs, ours)
			require.Len(t, records, int(dropped), "one record per packet the rule dropped")
			for _, lr := range records {
				at := lr.Attributes().AsRaw()
				requireOwnedBy(t, at, a, "the listener's owner, A")
				require.Equal(t, "sleep", at[attrExecutable])
				require.Equal(t, cgroupPath, at[attrCgroup])
				require.Equal(t, id, at[attrContainer])
				ctx, comm := attrInt(at, attrContextPID), at[attrContextComm].(string)
				require.True(t, ctx == int64(os.Getpid()) || ctx == 0 || strings.HasPrefix(comm, "ksoftirqd"),
					"context %d (%s): want the sender B (%d) or softirq", ctx, comm, os.Getpid())
				require.NotEqual(t, int64(a), ctx, "A sent nothing")
			}
			require.Equal(t, int64(dropped), sinkTotal(metrics, packetsName, forA), "tcp_drop.packets for A")
		})
	}
}

// TestListenOverflowsAreExact: a server (process A) with a backlog of 1
// that never accepts, and K clients. The overflows reported - in log
// records and in tcp_drop.packets, for A and the server's port - equal the
// namespace's TcpExt:ListenOverflows growth exactly. IPv4 and IPv6.
func TestListenOverflowsAreExact(t *testing.T) {
	roottest.Require(t)
	const clients = 8
	for _, listen := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(listen, func(t *testing.T) {
			ns := sandbox.NewForTest(t)
			if strings.HasPrefix(listen, "[") && !ns.HasIPv6() {
				t.Skip("no IPv6 in this kernel")
			}
			server, addr := ns.ListenInChildForTest(t, listen, 1, "")
			a := server.Process.Pid
			logs, metrics, _ := startKernelReceiver(t)
			waitForListener(t, metrics, ns, addr, a, 1)
			before, err := ns.Netstat()
			require.NoError(t, err)

			fds, err := ns.StartConnects(addr, clients)
			require.NoError(t, err)
			time.Sleep(1500 * time.Millisecond) // SYN retransmissions overflow again
			for _, fd := range fds {
				_ = unix.Close(fd)
			}

			overflowsOfA := func(at map[string]any) bool {
				return attrInt(at, attrPID) == int64(a) && attrInt(at, attrLocalPort) == int64(addr.Port()) &&
					at[attrReason] == listenOverflowReason
			}
			reported := func() (records, metric int64) {
				for _, lr := range sinkRecords(logs, overflowsOfA) {
					v, _ := lr.Attributes().Get(attrOverflows)
					records += v.Int()
				}
				metric = sinkTotal(metrics, packetsName, func(dp pmetric.NumberDataPoint) bool {
					at := dp.Attributes().AsRaw()
					return attrInt(at, attrPID) == int64(a) && at[attrReason] == listenOverflowReason
				})
				return records, metric
			}
			kernel := func() int64 {
				now, err := ns.Netstat()
				require.NoError(t, err)
				return int64(now["TcpExt:ListenOverflows"] - before["TcpExt:ListenOverflows"])
			}
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				r, m := reported()
				k := kernel()
				if k > 0 && r == k && m == k {
					break
				}
				if time.Now().After(deadline) {
					var seen []string
					for _, lr := range sinkRecords(logs, func(at map[string]any) bool { return at[attrReason] == listenOverflowReason }) {
						seen = append(seen, fmt.Sprintf("%s %v", lr.Body().Str(), lr.Attributes().AsRaw()))
					}
					t.Fatalf("overflows never matched the kernel's: %d in log records, %d in tcp_drop.packets, %d in TcpExt:ListenOverflows; the records:\n%s",
						r, m, k, strings.Join(seen, "\n"))
				}
			}
			time.Sleep(300 * time.Millisecond) // three polls more: any extra would show
			r, m := reported()
			k := kernel()
			require.Equal(t, k, r, "overflows in log records = TcpExt:ListenOverflows growth")
			require.Equal(t, k, m, "tcp_drop.packets{TCP_LISTEN_OVERFLOW} = TcpExt:ListenOverflows growth")
			for _, lr := range sinkRecords(logs, overflowsOfA) {
				v, _ := lr.Attributes().Get(attrQueueLimit)
				require.Equal(t, int64(1), v.Int(), "the queue's limit")
				require.Contains(t, lr.Body().Str(), fmt.Sprintf("Listen overflow | PID: %d (sleep) | Listener: %v", a, addr))
			}
			t.Logf("%v: %d overflows, all reported for pid %d", addr, k, a)
		})
	}
}
