// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// envBriefClient makes TestHelperBriefClient, run in a process of its own,
// a client that connects and exits at once.
const envBriefClient = "TCPDROP_RECEIVER_BRIEF_CLIENT"

// TestHelperBriefClient is not a test: run by TestExitedClientOwnsItsDrops,
// it starts the connects $TCPDROP_RECEIVER_BRIEF_CLIENT says ("addr count"),
// without waiting for them, and exits.
func TestHelperBriefClient(t *testing.T) {
	spec := os.Getenv(envBriefClient)
	if spec == "" {
		t.Skip("a helper process of TestExitedClientOwnsItsDrops, not a test")
	}
	var addr string
	var count int
	if _, err := fmt.Sscan(spec, &addr, &count); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	to := netip.MustParseAddrPort(addr)
	for range count {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
		if err == nil {
			err = unix.Connect(fd, &unix.SockaddrInet4{Port: int(to.Port()), Addr: to.Addr().As4()})
		}
		if err != nil && !errors.Is(err, unix.EINPROGRESS) {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	}
	os.Exit(0)
}

// TestExitedClientOwnsItsDrops: a client process whose connects are
// dropped by a firewall rule as they leave exits at once. Every record of
// those drops and tcp_drop.packets name it (its pid), though it was gone
// before the receiver could look for it: its owner is who made the socket
// connect, as the kernel saw it.
func TestExitedClientOwnsItsDrops(t *testing.T) {
	roottest.Require(t)
	logs, metrics, _ := startKernelReceiver(t)
	ns := sandbox.NewForTest(t)
	addr := netip.MustParseAddrPort("127.0.0.1:7191")
	rule, err := ns.DropTCPPortOutput(addr.Port())
	require.NoError(t, err)

	cmd := helperProcess(t, "TestHelperBriefClient", fmt.Sprintf("%s=%s %d", envBriefClient, addr, 6))
	out, err := runIn(ns, cmd)
	require.NoError(t, err, "the client: %s", out)
	pid := cmd.Process.Pid
	dropped, err := rule.Packets()
	require.NoError(t, err)
	require.Equal(t, uint64(6), dropped, "one SYN per connect")

	ours := func(at map[string]any) bool {
		return at[attrKind] == "drop" && attrInt(at, attrNetns) == int64(ns.Inode()) && attrInt(at, attrDstPort) == int64(addr.Port())
	}
	forClient := func(dp pmetric.NumberDataPoint) bool { return attrInt(dp.Attributes().AsRaw(), attrPID) == int64(pid) }
	require.Eventually(t, func() bool {
		return len(sinkRecords(logs, ours)) >= int(dropped) && sinkTotal(metrics, packetsName, forClient) >= int64(dropped)
	}, 10*time.Second, 20*time.Millisecond, "the drops of the client did not arrive, named for it")
	time.Sleep(300 * time.Millisecond) // any extra would show
	records := sinkRecords(logs, ours)
	require.Len(t, records, int(dropped), "one record per packet the rule dropped")
	for _, lr := range records {
		at := lr.Attributes().AsRaw()
		requireOwnedBy(t, at, pid, "the client's pid, in the record's Resource")
	}
	require.Equal(t, int64(dropped), sinkTotal(metrics, packetsName, forClient), "tcp_drop.packets for the client")
}

// runIn runs cmd to its end as a process born in ns, and returns its
// output.
func runIn(ns *sandbox.Netns, cmd *exec.Cmd) ([]byte, error) {
	var out []byte
	err := ns.Do(func() error {
		var err error
		out, err = cmd.CombinedOutput()
		return err
	})
	return out, err
}

// TestFirewalledConnectionHasItsOwner: a firewall rule drops the data of an
// established loopback connection on its way to the client, before the
// packet meets the client's socket (loopback attaches none). Every record
// of those drops names the client's owner and the connection's state, and
// tcp_drop.packets counts them for it, as many as the rule dropped.
func TestFirewalledConnectionHasItsOwner(t *testing.T) {
	roottest.Require(t)
	logs, metrics, _ := startKernelReceiver(t)
	ns := sandbox.NewForTest(t)
	lfd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 8)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Close(lfd) })
	server, err := sandbox.LocalAddr(lfd)
	require.NoError(t, err)
	var client, accepted int
	require.NoError(t, ns.Do(func() error {
		if client, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0); err != nil {
			return err
		}
		return unix.Connect(client, &unix.SockaddrInet4{Port: int(server.Port()), Addr: server.Addr().As4()})
	}))
	t.Cleanup(func() { _ = unix.Close(client) })
	accepted, _, err = unix.Accept(lfd)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Close(accepted) })
	local, err := sandbox.LocalAddr(client)
	require.NoError(t, err)
	rule, err := ns.DropTCPPort(local.Port())
	require.NoError(t, err)

	_, err = unix.Write(accepted, []byte("dropped on its way"))
	require.NoError(t, err)
	// Time is the condition: a few retransmissions, dropped too, after
	// which the timer's backoff leaves the reads below a quiet spell.
	time.Sleep(1500 * time.Millisecond)
	dropped, err := rule.Packets()
	require.NoError(t, err)
	require.Positive(t, dropped)

	ours := func(at map[string]any) bool {
		return at[attrKind] == "drop" && attrInt(at, attrNetns) == int64(ns.Inode()) && attrInt(at, attrDstPort) == int64(local.Port())
	}
	forUs := func(dp pmetric.NumberDataPoint) bool {
		a := dp.Attributes().AsRaw()
		return attrInt(a, attrPID) == int64(os.Getpid()) && a[attrReason] == reasonOnThisKernel(t, "NETFILTER_DROP")
	}
	require.Eventually(t, func() bool {
		n, _ := rule.Packets()
		return len(sinkRecords(logs, ours)) >= int(n) && sinkTotal(metrics, packetsName, forUs) >= int64(n)
	}, 10*time.Second, 20*time.Millisecond, "the drops did not arrive, named for the client's owner")
	_ = unix.Close(accepted)           // no more retransmissions
	time.Sleep(300 * time.Millisecond) // the last records arrive; any extra would show
	dropped, err = rule.Packets()
	require.NoError(t, err)
	records := sinkRecords(logs, ours)
	require.Len(t, records, int(dropped), "one record per packet the rule dropped")
	for _, lr := range records {
		at := lr.Attributes().AsRaw()
		requireOwnedBy(t, at, os.Getpid(), "the client's owner, in the record's Resource")
		require.Equal(t, "established", at[attrConnectionState])
	}
	require.Equal(t, int64(dropped), sinkTotal(metrics, packetsName, forUs), "tcp_drop.packets for the client's owner")
}
