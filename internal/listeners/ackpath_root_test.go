// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"maps"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
)

// TestOverflowACKPath measures the other place the accept queue overflows:
// the ACK that completes a handshake (tcp_check_req -> syn_recv_sock). On
// loopback every handshake completes before the next SYN, so the test holds
// the handshakes open with TCP_DEFER_ACCEPT: the bare final ACKs are
// dropped, and the connections are created only when the clients' data
// arrive, by then into a full queue.
//
// There the kernel counts ListenOverflows and ListenDrops once, but sk_drops
// twice (tcp_listendrop in syn_recv_sock, and sk_drops_add when tcp_v4_rcv /
// tcp_v6_rcv discards the segment), and kfree_skb sees the segment with
// reason TCP_LISTEN_OVERFLOW. The bare ACKs TCP_DEFER_ACCEPT drops take the
// same discard path: sk_drops, not ListenDrops. So, exactly:
//
//	sk_drops = ListenDrops + (kfree_skb TCP_LISTEN_OVERFLOW) + TCPDeferAcceptDrop
//
// while the Watcher's Overflows stay equal to ListenOverflows.
//
// Kernels before 6.16 have no TCP_LISTEN_OVERFLOW: they free the segment as
// NOT_SPECIFIED, like the bare ACKs (before 5.17 with no reason at all), so
// there the ACK-path overflows are the listener's kfree_skb drops beyond the
// TCPDeferAcceptDrop ones, and sk_drops = ListenDrops + all of its drops.
func TestOverflowACKPath(t *testing.T) {
	roottest.Require(t)
	reasons, err := dropreason.FromKernel()
	if err != nil {
		t.Fatal(err)
	}
	listenOverflow, named := reasons.Value("TCP_LISTEN_OVERFLOW")
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			n := sandbox.NewForTest(t)
			fd, a := listen(t, n, addr, 1)
			closeListener := func() { _ = unix.Close(fd) }
			defer closeListener()
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 5); err != nil {
				t.Fatal(err)
			}
			ctr, err := newKfreeCounter(a.Port(), reasons.Available())
			if err != nil {
				t.Fatalf("cannot count kfree_skb: %v", err)
			}
			defer ctr.Close()
			w := NewWatcher("/proc", nil)
			// Its handles keep the namespaces alive.
			defer w.Close()
			pollLog(t, w)
			before := netstat(t, n)

			fds, err := n.StartConnects(a, clients)
			if err != nil {
				t.Fatal(err)
			}
			// Closed after the listener (deferred earlier, run later), so
			// that their FINs or RSTs reach no listener while it is counted.
			defer closeAll(fds)
			// Time is the condition: the handshakes that the full queue
			// lets through complete, the others wait on the SYN timer.
			time.Sleep(300 * time.Millisecond)
			for _, c := range fds {
				_, _ = unix.Write(c, []byte("x")) // creates the connection: overflows if the queue is full
			}
			time.Sleep(2500 * time.Millisecond) // SYN-ACK and data retransmissions

			// Read the counters, the Watcher and the kfree_skb counts in a
			// moment when nothing moves: the same counts before and after.
			var got []Overflow
			var ns map[string]uint64
			var kfree map[uint32]uint64
			for try := 0; ; try++ {
				k1, n1 := ctr.counts(), netstat(t, n)
				for _, o := range pollLog(t, w) {
					if o.Netns == n.Inode() {
						got = append(got, o)
					}
				}
				k2, n2 := ctr.counts(), netstat(t, n)
				if maps.Equal(k1, k2) && maps.Equal(n1, n2) {
					ns, kfree = n2, k2
					break
				}
				if try == 50 {
					t.Fatal("no quiet moment to read the counters in")
				}
				time.Sleep(50 * time.Millisecond) // quiet is what is waited for
			}
			closeListener()

			d := func(k string) uint64 { return ns[k] - before[k] }
			dOver, dLD, dDefer := d("TcpExt:ListenOverflows"), d("TcpExt:ListenDrops"), d("TcpExt:TCPDeferAcceptDrop")
			var all uint64
			for _, n := range kfree {
				all += n
			}
			ackPath := kfree[listenOverflow]
			if !named {
				ackPath = all - min(all, dDefer)
			}
			var over, drops uint64
			for _, o := range got {
				if o.Addr != a || o.Estimated {
					t.Errorf("overflow not pinned on %v: %+v", a, o)
				}
				over, drops = over+o.Overflows, drops+o.NewDrops
			}
			t.Logf("%v: ListenOverflows +%d, ListenDrops +%d, TCPDeferAcceptDrop +%d, kfree_skb TCP_LISTEN_OVERFLOW %d (all reasons: %v); sk_drops +%d, Overflows %d",
				a, dOver, dLD, dDefer, ackPath, kfree, drops, over)
			if ackPath == 0 {
				t.Fatalf("no handshake-completing segment overflowed; the test did not exercise the ACK path")
			}
			if over != dOver {
				t.Errorf("Overflows %d != ListenOverflows +%d", over, dOver)
			}
			if dLD != dOver {
				t.Errorf("ListenDrops +%d != ListenOverflows +%d (SYN cookies are on: no SYN-queue drops expected)", dLD, dOver)
			}
			if ackPath > dOver {
				t.Errorf("kfree_skb saw %d TCP_LISTEN_OVERFLOW, more than ListenOverflows +%d", ackPath, dOver)
			}
			if !named {
				if want := dLD + all; drops != want {
					t.Errorf("sk_drops +%d; want ListenDrops + the listener's kfree_skb drops = %d + %d = %d", drops, dLD, all, want)
				}
				return
			}
			if want := dLD + ackPath + dDefer; drops != want {
				t.Errorf("sk_drops +%d; want ListenDrops + ACK-path overflows + defer-accept drops = %d + %d + %d = %d",
					drops, dLD, ackPath, dDefer, want)
			}
		})
	}
}
