// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// TestOverflowsAreCountedOnce: while a backlog-1 server that never accepts
// is sent 8 connections at once, tcp_drop.packets summed over every data
// point (all reasons, all owners) equals the drops the kernel counted in the
// server's namespace, plus those the receiver saw elsewhere (one log record
// per drop, or a listen overflow record's count). The namespace is new, so
// its counters start at zero, and only two kinds of drop happen in it, each
// counted once by the kernel:
//   - TcpExt:ListenOverflows: every overflow, of the SYN (freed by
//     consume_skb: kfree_skb never sees it) and of the ACK that completes a
//     handshake (freed by kfree_skb);
//   - TcpExt:TCPDeferAcceptDrop: the bare ACKs TCP_DEFER_ACCEPT drops (freed
//     by kfree_skb, reason NOT_SPECIFIED).
//
// On loopback every handshake completes before the next SYN, so a plain
// server overflows on the SYN path only; with TCP_DEFER_ACCEPT the
// connections are made when the clients' data arrive, by then into a full
// queue: the ACK path, which kfree_skb and the listen watcher both see.
// IPv4 and IPv6.
func TestOverflowsAreCountedOnce(t *testing.T) {
	roottest.Require(t)
	reasons, err := dropreason.FromKernel()
	require.NoError(t, err)
	features, err := probe.KernelFeatures()
	require.NoError(t, err)
	_, named := reasons.Value(listenOverflowReason)
	t.Logf("drop reasons %v, TCP_LISTEN_OVERFLOW %v, socket passed %v", reasons.Available(), named, features.Socket)
	for _, path := range []string{"SYN", "ACK"} {
		for _, listen := range []string{"127.0.0.1:0", "[::1]:0"} {
			t.Run(path+" path "+listen, func(t *testing.T) {
				ns := sandbox.NewForTest(t)
				if strings.HasPrefix(listen, "[") && !ns.HasIPv6() {
					t.Skip("no IPv6 in this kernel")
				}
				fd, err := ns.Listen(netip.MustParseAddrPort(listen), 1)
				require.NoError(t, err)
				defer unix.Close(fd)
				if path == "ACK" {
					require.NoError(t, unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 5))
				}
				addr, err := sandbox.LocalAddr(fd)
				require.NoError(t, err)
				logs, metrics, _ := startKernelReceiver(t)
				waitForListener(t, metrics, ns, addr, os.Getpid(), 1)

				clients, err := ns.StartConnects(addr, 8)
				require.NoError(t, err)
				defer func() { // after the counts are read: closing drops more
					for _, c := range clients {
						_ = unix.Close(c)
					}
				}()
				// Time is the condition: the handshakes that the full queue
				// lets through complete, the others wait on the SYN timer.
				time.Sleep(300 * time.Millisecond)
				if path == "ACK" {
					for _, c := range clients {
						_, _ = unix.Write(c, []byte("x")) // makes the connection, into a full queue
					}
				}
				time.Sleep(1500 * time.Millisecond) // retransmissions overflow again

				type reading struct{ packets, kernel, elsewhere int64 }
				read := func() reading {
					n, err := ns.Netstat()
					require.NoError(t, err)
					var r reading
					r.packets = sinkTotal(metrics, packetsName, func(pmetric.NumberDataPoint) bool { return true })
					r.kernel = int64(n["TcpExt:ListenOverflows"] + n["TcpExt:TCPDeferAcceptDrop"])
					// Drops the logs filters left out (the default benign set)
					// have no record: counted, wherever they were.
					r.elsewhere = sinkTotal(metrics, "tcp_drop.events.filtered", func(pmetric.NumberDataPoint) bool { return true })
					// Drops only: resets, retransmissions and failed connects (on
					// by default) are not in tcp_drop.packets.
					elsewhere := func(at map[string]any) bool {
						return attrInt(at, attrNetns) != int64(ns.Inode()) && at[attrKind] == "drop"
					}
					for _, lr := range sinkRecords(logs, elsewhere) {
						if v, ok := lr.Attributes().Get(attrOverflows); ok {
							r.elsewhere += v.Int()
						} else {
							r.elsewhere++
						}
					}
					return r
				}
				// Three polls and collections apart, the same reading: settled.
				var got reading
				for deadline := time.Now().Add(10 * time.Second); ; {
					r1 := read()
					time.Sleep(300 * time.Millisecond) // quiet is what is waited for
					got = read()
					if got == r1 && got.packets == got.kernel+got.elsewhere {
						break
					}
					if time.Now().After(deadline) {
						break
					}
				}
				require.Positive(t, got.kernel, "no overflow: the test did not fill the accept queue")
				require.Equalf(t, got.kernel+got.elsewhere, got.packets,
					"tcp_drop.packets over all reasons = the namespace's ListenOverflows + TCPDeferAcceptDrop (%d) + drops elsewhere, filtered ones included (%d)",
					got.kernel, got.elsewhere)
				t.Logf("%v, %s path: %d drops in the namespace, %d elsewhere, %d in tcp_drop.packets", addr, path, got.kernel, got.elsewhere, got.packets)
			})
		}
	}
}
