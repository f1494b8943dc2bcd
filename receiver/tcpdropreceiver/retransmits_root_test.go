// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// handshakeFailures are what TestRetransmitsAndFailedConnectsHaveOwners
// makes in its namespace: connects refused by a closed port, connects
// whose SYNs a rule drops (their SYNs sent again until they time out, in
// about 3 s: once or twice, as the kernel's clock falls), and connects to
// a listener whose handshake ACKs a rule drops (each SYN-ACK sent again
// once).
const (
	refusedConnects  = 10
	timedOutConnects = 3
	synAckLost       = 2
)

// TestRetransmitsAndFailedConnectsHaveOwners: from its first second, a
// receiver with the default configuration counts what a namespace's
// failing handshakes make: the connects that failed in
// tcp_drop.connects.failed, by error (= Tcp:AttemptFails), the SYNs and
// the listener's SYN-ACKs sent again in tcp_drop.retransmits (=
// Tcp:RetransSegs, TcpExt:TCPSynRetrans), all owned by this process (the
// connecting one, the listener's), and logs a record of each.
func TestRetransmitsAndFailedConnectsHaveOwners(t *testing.T) {
	roottest.Require(t)
	ns := sandbox.NewForTest(t)
	require.NoError(t, ns.OneHandshakeRetry())
	lfd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 64)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Close(lfd) })
	server, err := sandbox.LocalAddr(lfd)
	require.NoError(t, err)
	closed, lost := netip.MustParseAddrPort("127.0.0.1:9"), netip.MustParseAddrPort("127.0.0.1:10")
	_, err = ns.DropTCPPort(lost.Port())
	require.NoError(t, err)
	const handshakeFlags = uint8(probe.FlagSYN | probe.FlagACK | probe.FlagRST | probe.FlagFIN)
	_, err = ns.DropTCPPortFlags(server.Port(), handshakeFlags, uint8(probe.FlagACK))
	require.NoError(t, err)

	logs, metrics, shutdown := startKernelReceiver(t) // and no waiting
	before, err := ns.Netstat()
	require.NoError(t, err)
	timingOut, err := ns.StartConnects(lost, timedOutConnects)
	require.NoError(t, err)
	established, err := ns.StartConnects(server, synAckLost)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, fd := range append(timingOut, established...) {
			_ = unix.Close(fd)
		}
	})
	require.NoError(t, ns.ConnectRefused(closed, refusedConnects))
	for _, fd := range timingOut {
		require.NoError(t, waitSocketError(fd, unix.ETIMEDOUT, 10*time.Second))
	}
	grew := waitNetstatGrowth(t, ns, before, map[string]uint64{
		"Tcp:AttemptFails":     refusedConnects + timedOutConnects,
		"TcpExt:TCPSynRetrans": timedOutConnects + synAckLost,
	})
	require.Equal(t, uint64(refusedConnects+timedOutConnects), grew["Tcp:AttemptFails"], "the counters that grew: %v", nonZero(grew))
	require.Equal(t, grew["TcpExt:TCPSynRetrans"], grew["Tcp:RetransSegs"], "only handshakes were sent again: %v", nonZero(grew))

	me := int64(os.Getpid())
	// countsOf is this process's points of metric name, by reason (the
	// reasons of want) and over every reason.
	countsOf := func(name string, want map[string]int64) map[string]int64 {
		got := map[string]int64{}
		for reason := range want {
			if reason != allReasons {
				got[reason] = sinkTotal(metrics, name, func(dp pmetric.NumberDataPoint) bool {
					at := dp.Attributes().AsRaw()
					return attrInt(at, attrPID) == me && at[attrReason] == reason
				})
			}
		}
		got[allReasons] = sinkTotal(metrics, name, func(dp pmetric.NumberDataPoint) bool {
			return attrInt(dp.Attributes().AsRaw(), attrPID) == me
		})
		return got
	}
	wantFailed := map[string]int64{"ECONNREFUSED": refusedConnects, "ETIMEDOUT": timedOutConnects,
		allReasons: int64(grew["Tcp:AttemptFails"])}
	syns := int64(grew["TcpExt:TCPSynRetrans"]) - synAckLost
	wantRetransmits := map[string]int64{"SYN": syns, "SYN_ACK": synAckLost, allReasons: int64(grew["Tcp:RetransSegs"])}
	require.Eventually(t, func() bool {
		return maps.Equal(countsOf(failedConnectsName, wantFailed), wantFailed) &&
			maps.Equal(countsOf(retransmitsName, wantRetransmits), wantRetransmits)
	}, 10*time.Second, 20*time.Millisecond, "this process's tcp_drop.connects.failed %v (want %v) and tcp_drop.retransmits %v (want %v)",
		countsOf(failedConnectsName, wantFailed), wantFailed, countsOf(retransmitsName, wantRetransmits), wantRetransmits)
	shutdown()

	inNamespace := func(kind string) func(at map[string]any) bool {
		return func(at map[string]any) bool {
			return at[attrKind] == kind && attrInt(at, attrNetns) == int64(ns.Inode())
		}
	}
	failed := sinkRecords(logs, inNamespace("connect_failed"))
	require.Len(t, failed, int(grew["Tcp:AttemptFails"]), "a record per failed connect")
	for _, lr := range failed {
		at := lr.Attributes().AsRaw()
		requireOwnedBy(t, at, int(me), "the connecting process")
		want := map[string]netip.AddrPort{"ECONNREFUSED": closed, "ETIMEDOUT": lost}[at[attrReason].(string)]
		require.Equal(t, int64(want.Port()), attrInt(at, attrDstPort), "a %s connect's peer", at[attrReason])
		require.Equal(t, "syn_sent", at[attrConnectionState])
		require.NotContains(t, at, attrTCPFlags, "a failed connect is no packet")
	}
	var segments int64
	for _, lr := range sinkRecords(logs, inNamespace("retransmit")) {
		at := lr.Attributes().AsRaw()
		requireOwnedBy(t, at, int(me), "the connecting process, or the listener's")
		segments += attrInt(at, attrSegments)
		if at[attrReason] == "SYN_ACK" {
			require.Equal(t, int64(server.Port()), attrInt(at, attrSrcPort), "a SYN-ACK's source is the listener")
		}
	}
	require.Equal(t, int64(grew["Tcp:RetransSegs"]), segments, "the retransmission records' segments")
	t.Logf("Tcp:AttemptFails +%d, Tcp:RetransSegs +%d: tcp_drop.connects.failed %v, tcp_drop.retransmits %v",
		grew["Tcp:AttemptFails"], grew["Tcp:RetransSegs"], countsOf(failedConnectsName, wantFailed), countsOf(retransmitsName, wantRetransmits))
}

// allReasons is the key of a count over every reason.
const allReasons = "(all)"

// waitNetstatGrowth waits until each counter of want grew from before by
// at least its value (10 s at most), and a moment more, and returns the
// growth of every counter.
func waitNetstatGrowth(t *testing.T, ns *sandbox.Netns, before map[string]uint64, want map[string]uint64) map[string]uint64 {
	t.Helper()
	var grew map[string]uint64
	reached := func() bool {
		now, err := ns.Netstat()
		require.NoError(t, err)
		grew = map[string]uint64{}
		for k, v := range now {
			grew[k] = v - before[k]
		}
		for k, v := range want {
			if grew[k] < v {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(10 * time.Second); !reached(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s, the namespace's counters grew by %v; want at least %v", nonZero(grew), want)
		}
	}
	time.Sleep(100 * time.Millisecond) // more would be wrong: give it the time to show
	reached()
	return grew
}

// nonZero is m without its zero values.
func nonZero(m map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// waitSocketError waits until the connect of fd failed with want.
func waitSocketError(fd int, want unix.Errno, limit time.Duration) error {
	if err := sandbox.WaitState(fd, unix.BPF_TCP_CLOSE, limit); err != nil {
		return err
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && unix.Errno(got) != want {
		err = fmt.Errorf("connect failed with %w, want %w", unix.Errno(got), want)
	}
	return err
}

// TestOverflowingListenerSendsSYNACKsAgain: the overloaded server in one
// picture. A listener of backlog 1 that never accepts (its accept queue
// holds 2) has one connection queued; 2 more connects are answered while a
// rule drops their handshake ACKs, until both clients are established.
// With the rule gone, the listener's requests send their SYN-ACKs again
// (their timers), and the ACKs come through: one fills the queue, the
// other overflows it. A default receiver started at once counts, for this
// process (the listener's), the SYN-ACKs sent again (=
// TcpExt:TCPSynRetrans, no SYN sent again) beside the overflow (=
// TcpExt:ListenOverflows).
func TestOverflowingListenerSendsSYNACKsAgain(t *testing.T) {
	roottest.Require(t)
	ns := sandbox.NewForTest(t)
	require.NoError(t, ns.OneHandshakeRetry())
	lfd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 1)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Close(lfd) })
	server, err := sandbox.LocalAddr(lfd)
	require.NoError(t, err)

	_, metrics, _ := startKernelReceiver(t)
	before, err := ns.Netstat()
	require.NoError(t, err)
	queued, err := ns.StartConnects(server, 1)
	require.NoError(t, err)
	require.NoError(t, sandbox.WaitAccepted(lfd, 1, 10*time.Second))
	const handshakeFlags = uint8(probe.FlagSYN | probe.FlagACK | probe.FlagRST | probe.FlagFIN)
	acks, err := ns.DropTCPPortFlags(server.Port(), handshakeFlags, uint8(probe.FlagACK))
	require.NoError(t, err)
	const late = 2 // connects whose ACK comes late: one finds room, one overflows
	clients, err := ns.StartConnects(server, late)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, fd := range append(queued, clients...) {
			_ = unix.Close(fd)
		}
	})
	for _, fd := range clients {
		require.NoError(t, sandbox.WaitState(fd, unix.BPF_TCP_ESTABLISHED, 10*time.Second))
	}
	require.NoError(t, acks.Delete()) // the next ACKs, of the SYN-ACKs sent again, come through
	grew := waitNetstatGrowth(t, ns, before, map[string]uint64{"TcpExt:TCPSynRetrans": late, "TcpExt:ListenOverflows": 1})
	require.Equal(t, uint64(late), grew["TcpExt:TCPSynRetrans"], "the counters that grew: %v", nonZero(grew))
	require.Equal(t, uint64(1), grew["TcpExt:ListenOverflows"], "the counters that grew: %v", nonZero(grew))

	me := int64(os.Getpid())
	mine := func(metric, reason string) int64 {
		return sinkTotal(metrics, metric, func(dp pmetric.NumberDataPoint) bool {
			at := dp.Attributes().AsRaw()
			return attrInt(at, attrPID) == me && at[attrReason] == reason
		})
	}
	var synAcks, syns, overflows int64
	require.Eventually(t, func() bool {
		synAcks, syns = mine(retransmitsName, "SYN_ACK"), mine(retransmitsName, "SYN")
		overflows = mine(packetsName, listenOverflowReason)
		return synAcks == late && syns == 0 && overflows == 1
	}, 10*time.Second, 20*time.Millisecond, "this process's SYN-ACKs sent again %d (want %d), SYNs %d (want 0), listen overflows %d (want 1)",
		synAcks, late, syns, overflows)
	t.Logf("TcpExt:TCPSynRetrans +%d, ListenOverflows +%d: the listener's SYN-ACKs sent again %d beside its overflows %d",
		grew["TcpExt:TCPSynRetrans"], grew["TcpExt:ListenOverflows"], synAcks, overflows)
}
