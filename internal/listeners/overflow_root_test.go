// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/owners"
)

// clients is how many connects hit the backlog-1 listener: the accept queue
// takes 2 (the kernel refuses only when it holds more than the backlog), the
// other 6 have their SYNs dropped, and their retransmissions too.
const clients = 8

// TestOverflowExact is the measurement behind the package doc. A listener
// with backlog 1 that never accepts, in a sandbox namespace, gets 8 connects;
// each refused SYN (and retransmitted SYN) is dropped in tcp_conn_request.
// The Watcher, which finds the namespace through the sandbox's descriptor,
// must report exactly the namespace's TcpExt:ListenOverflows growth, on that
// listener (port, inode, owner = this process). It also pins down the
// kernel's relation for SYN-path overflows: each one counts once in
// ListenOverflows, once in ListenDrops and once in the socket's sk_drops.
func TestOverflowExact(t *testing.T) {
	roottest.Require(t)
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			n := sandbox.NewForTest(t)
			fd, a := listen(t, n, addr, 1)
			defer unix.Close(fd)
			w := NewWatcher("/proc", nil)
			// Its handles keep the namespaces alive.
			defer w.Close()
			pollLog(t, w) // baseline: finds the sandbox, held by this process's descriptor
			if !hasListener(w.Listeners(), n.Inode(), a) {
				t.Fatalf("the Watcher does not see %v in namespace %d", a, n.Inode())
			}
			before := netstat(t, n)
			fds, err := n.StartConnects(a, clients)
			if err != nil {
				t.Fatal(err)
			}
			defer closeAll(fds)
			// The clients retransmit their SYNs (TCP_SYNCNT 1) for about 3s.
			got := waitQuiet(t, w, n, 3500*time.Millisecond, time.Second, 15*time.Second)
			after := netstat(t, n)
			dOver := after["TcpExt:ListenOverflows"] - before["TcpExt:ListenOverflows"]
			dLD := after["TcpExt:ListenDrops"] - before["TcpExt:ListenDrops"]

			var over, ld, drops uint64
			for _, o := range got {
				if o.Addr != a || o.Inode != inodeOf(t, fd) || o.Estimated {
					t.Errorf("overflow not pinned on %v (inode %d): %+v", a, inodeOf(t, fd), o)
				}
				over, ld, drops = over+o.Overflows, ld+o.ListenDrops, drops+o.NewDrops
			}
			t.Logf("%v: ListenOverflows +%d, ListenDrops +%d; reported Overflows %d, ListenDrops %d, sk_drops +%d, in %d reports",
				a, dOver, dLD, over, ld, drops, len(got))
			if dOver < clients-2 {
				t.Fatalf("ListenOverflows grew by %d; want at least one per refused client (%d)", dOver, clients-2)
			}
			if over != dOver || ld != dLD {
				t.Errorf("reported %d overflows and %d listen drops; the kernel counted %d and %d", over, ld, dOver, dLD)
			}
			if drops != dOver || dLD != dOver {
				t.Errorf("SYN-path overflows: sk_drops +%d, ListenDrops +%d, ListenOverflows +%d; want all equal", drops, dLD, dOver)
			}
			// The owner: this process, which holds the listener.
			o, ok := owners.NewResolver("/proc").Lookup(inodeOf(t, fd), time.Now())
			if !ok || o.PID != os.Getpid() {
				t.Errorf("owner of the listener = %+v, %v; want pid %d", o, ok, os.Getpid())
			}
		})
	}
}

func hasListener(ls []Listener, netns uint32, a netip.AddrPort) bool {
	for _, l := range ls {
		if l.Netns == netns && l.Addr == a {
			return true
		}
	}
	return false
}
