// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
)

// resetReasonOnThisKernel is the tcp_drop.reason of resets that kernels
// from 6.10 on give the reason name: name, or NOT_AVAILABLE before, and
// whether the kernel traces resets sent without a socket (6.10+).
func resetReasonOnThisKernel(t *testing.T, name string) (reason string, socketless bool) {
	t.Helper()
	reasons, err := dropreason.ResetsFromKernel()
	require.NoError(t, err)
	if !reasons.Available() {
		return notAvailable, false
	}
	_, ok := reasons.Value(name)
	require.True(t, ok, "the running kernel has reset reasons, but not %s", name)
	return name, true
}

// TestResetsAreCountedWithTheirOwners: from its first second, a receiver
// with the default configuration counts the resets a namespace sends in
// tcp_drop.resets and logs each: those to a closed port (NO_SOCKET, no
// owner) and the aborts of connections this process closed with data
// unread (TCP_ABORT_ON_CLOSE, owned by it). The records of the namespace
// are as many as its Tcp:OutRsts grew, and the metric's point of this
// process is its aborts. Before 6.10 resets sent without a socket are not
// seen, and reasons are NOT_AVAILABLE: asserted so.
func TestResetsAreCountedWithTheirOwners(t *testing.T) {
	roottest.Require(t)
	abortReason, socketless := resetReasonOnThisKernel(t, "TCP_ABORT_ON_CLOSE")
	ns := sandbox.NewForTest(t)
	lfd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 64)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Close(lfd) })
	server, err := sandbox.LocalAddr(lfd)
	require.NoError(t, err)
	closed := netip.MustParseAddrPort("127.0.0.1:9")

	logs, metrics, shutdown := startKernelReceiver(t) // and no waiting: resets from the first second
	before, err := ns.Netstat()
	require.NoError(t, err)
	const refused, aborted = 20, 10
	require.NoError(t, ns.ConnectRefused(closed, refused))
	inodes, err := ns.AbortOnClose(lfd, server, aborted)
	require.NoError(t, err)
	after, err := ns.Netstat()
	require.NoError(t, err)
	grew := after["Tcp:OutRsts"] - before["Tcp:OutRsts"]
	require.Equal(t, uint64(refused+aborted), grew, "Tcp:OutRsts")

	want := int(grew)
	if !socketless {
		want = aborted
	}
	inNamespace := func(at map[string]any) bool {
		return at[attrKind] == "reset" && attrInt(at, attrNetns) == int64(ns.Inode())
	}
	require.Eventually(t, func() bool { return len(sinkRecords(logs, inNamespace)) >= want },
		10*time.Second, 20*time.Millisecond, "reset records of the namespace, want %d", want)
	time.Sleep(100 * time.Millisecond) // more would be wrong: give them the time to show
	shutdown()

	me := int64(os.Getpid())
	byReason := map[string]int{}
	for _, lr := range sinkRecords(logs, inNamespace) {
		at := lr.Attributes().AsRaw()
		byReason[at[attrReason].(string)]++
		if at[attrReason] == abortReason {
			requireOwnedBy(t, at, int(me), "an aborted connection's owner")
			require.Contains(t, inodes, uint64(attrInt(at, attrSocketInode)))
			require.Equal(t, int64(server.Port()), attrInt(at, attrSrcPort), "a reset's source is this host's end")
			require.NotContains(t, at, attrFunction, "the reset tracepoint gives no kernel function")
		} else {
			require.Equal(t, "NO_SOCKET", at[attrReason])
			require.Equal(t, ownerNone, at[attrOwner])
			require.Equal(t, int64(closed.Port()), attrInt(at, attrSrcPort))
		}
	}
	require.Len(t, sinkRecords(logs, inNamespace), want, "a record per reset the namespace sent (Tcp:OutRsts grew %d), by reason %v", grew, byReason)
	require.Equal(t, aborted, byReason[abortReason], "by reason %v", byReason)

	mine := sinkTotal(metrics, resetsName, func(dp pmetric.NumberDataPoint) bool {
		at := dp.Attributes().AsRaw()
		return attrInt(at, attrPID) == me && at[attrReason] == abortReason
	})
	require.Equal(t, int64(aborted), mine, "tcp_drop.resets of this process")
	t.Logf("Tcp:OutRsts +%d; records by reason %v; tcp_drop.resets of this process %d", grew, byReason, mine)
}
