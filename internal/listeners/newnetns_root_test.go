// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// TestNewNamespaceCountsFromItsCreation: a namespace created after the
// Watcher's first Poll, with a backlog-1 server overloaded at once, before
// any Poll can have seen the namespace: the overflows reported are all of
// the namespace's TcpExt:ListenOverflows since its creation, on that
// server. A namespace there at the first Poll counts from that Poll
// (TestOverflowExact).
func TestNewNamespaceCountsFromItsCreation(t *testing.T) {
	roottest.Require(t)
	// The namespaces are held only by this process's descriptors. Holding
	// one before the first Poll makes this process one the Watcher rescans
	// often (fdScanShare), so the new one is found within a Poll or two,
	// not at the next scan of every process's descriptors (under qemu's
	// emulation a scan takes long enough to put that beyond the wait).
	sandbox.NewForTest(t)
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			w := NewWatcher("/proc", nil)
			// Its handles keep the namespaces alive.
			defer w.Close()
			pollLog(t, w) // the start: this test's namespace does not exist yet
			n := sandbox.NewForTest(t)
			fd, a := listen(t, n, addr, 1)
			defer unix.Close(fd)
			fds, err := n.StartConnects(a, clients)
			if err != nil {
				t.Fatal(err)
			}
			defer closeAll(fds)
			got := waitQuiet(t, w, n, 3500*time.Millisecond, time.Second, 15*time.Second)
			total := netstat(t, n)["TcpExt:ListenOverflows"]

			var over uint64
			for _, o := range got {
				if o.Addr != a || o.Inode != inodeOf(t, fd) || o.Estimated {
					t.Errorf("overflow not pinned on %v (inode %d): %+v", a, inodeOf(t, fd), o)
				}
				over += o.Overflows
			}
			t.Logf("%v in a new namespace: ListenOverflows %d since its creation, reported %d in %d reports", a, total, over, len(got))
			if total < clients-2 {
				t.Fatalf("ListenOverflows is %d; want at least one per refused client (%d)", total, clients-2)
			}
			if over != total {
				t.Errorf("reported %d overflows; the namespace counted %d since its creation", over, total)
			}
		})
	}
}
