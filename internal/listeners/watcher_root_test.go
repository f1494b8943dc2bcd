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
)

// TestOverflowTwoListeners: two listeners of one namespace overflow in the
// same intervals. The namespace's counter is split between them by sk_drops
// growth; on the SYN path that growth is exactly each one's overflows, so
// the split is exact too, and the sum is the kernel's count.
func TestOverflowTwoListeners(t *testing.T) {
	roottest.Require(t)
	n := sandbox.NewForTest(t)
	fdA, a := listen(t, n, "127.0.0.1:0", 1)
	defer unix.Close(fdA)
	fdB, b := listen(t, n, "[::1]:0", 1)
	defer unix.Close(fdB)
	w := NewWatcher("/proc", nil)
	// Its handles keep the namespaces alive.
	defer w.Close()
	pollLog(t, w)
	before := netstat(t, n)
	var connects []int
	defer func() { closeAll(connects) }()
	for _, c := range []struct {
		addr netip.AddrPort
		k    int
	}{{a, 8}, {b, 4}} {
		fds, err := n.StartConnects(c.addr, c.k)
		if err != nil {
			t.Fatal(err)
		}
		connects = append(connects, fds...)
	}
	got := waitQuiet(t, w, n, 3500*time.Millisecond, time.Second, 15*time.Second)
	after := netstat(t, n)
	dOver := after["TcpExt:ListenOverflows"] - before["TcpExt:ListenOverflows"]
	per := map[netip.AddrPort][2]uint64{} // overflows, sk_drops
	var sum uint64
	for _, o := range got {
		v := per[o.Addr]
		per[o.Addr] = [2]uint64{v[0] + o.Overflows, v[1] + o.NewDrops}
		sum += o.Overflows
	}
	t.Logf("ListenOverflows +%d; per listener (overflows, sk_drops): %v", dOver, per)
	if sum != dOver {
		t.Errorf("sum of Overflows %d != ListenOverflows +%d", sum, dOver)
	}
	for _, x := range []netip.AddrPort{a, b} {
		if v := per[x]; v[0] == 0 || v[0] != v[1] {
			t.Errorf("%v: %d overflows reported for %d sk_drops", x, v[0], v[1])
		}
	}
}

// TestReadNamespaceNotOwn: a namespace taken for the Watcher's own (the
// thread-group leader was in it for a moment when Poll looked) is still
// read from inside it, not from the Watcher's thread. Read as the Watcher's
// own, the sandbox showed the host's listeners and namespace cookie, and
// its counters restarted from the host's.
func TestReadNamespaceNotOwn(t *testing.T) {
	roottest.Require(t)
	n := sandbox.NewForTest(t)
	fd, addr := listen(t, n, "127.0.0.1:0", 4)
	defer unix.Close(fd)
	paths := map[uint32]string{}
	fdNamespaces("/proc", []int32{int32(os.Getpid())}, paths, nil)
	path, ok := paths[n.Inode()]
	if !ok {
		t.Fatalf("the sandbox %d is not found among the descriptors of /proc", n.Inode())
	}
	own := readOnce(t, path, selfProcessNetns())
	s := readOnce(t, path, n.Inode())
	if _, ok := find(s.listeners, addr); !ok || s.cookie == own.cookie && own.cookie != 0 {
		t.Fatalf("namespace %d read as the Watcher's own: listener %v found %v, cookie %d (own %d)",
			n.Inode(), addr, ok, s.cookie, own.cookie)
	}
}

// readOnce reads namespace ino through path as the Watcher's own
// namespace, with a handle of its own.
func readOnce(t *testing.T, path string, ino uint32) snapshot {
	t.Helper()
	h, err := openHandle(path, ino, true)
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	s, err := h.snapshot(&scratch{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestQuietAfterTwoStillReads: a namespace's device counters read twice
// unchanged after a packet make it quiet (its overflow counters need not be
// read); a packet, here a refused connect on its loopback, makes it not
// quiet for two reads. The first read is not quiet either, but it is no
// change (changed: a queue may have filled since the first read): a packet
// is, for two reads.
func TestQuietAfterTwoStillReads(t *testing.T) {
	roottest.Require(t)
	n := sandbox.NewForTest(t)
	paths := map[uint32]string{}
	fdNamespaces("/proc", []int32{int32(os.Getpid())}, paths, nil)
	h, err := openHandle(paths[n.Inode()], n.Inode(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	reads := func() (quiet, changed []bool) {
		for range 3 {
			q, c, err := h.quiet(&scratch{})
			if err != nil {
				t.Fatal(err)
			}
			quiet, changed = append(quiet, q), append(changed, c)
		}
		return quiet, changed
	}
	if q, c := reads(); q[0] || q[1] || !q[2] || c[0] || c[1] || c[2] {
		t.Errorf("first three reads quiet = %v, changed = %v; want false, false, true and never changed", q, c)
	}
	if err := n.ConnectRefused(netip.MustParseAddrPort("127.0.0.1:9"), 1); err != nil {
		t.Fatal(err)
	}
	if q, c := reads(); q[0] || q[1] || !q[2] || !c[0] || !c[1] || c[2] {
		t.Errorf("after a packet, quiet = %v, changed = %v; want false, false, true both times", q, c)
	}
}

// TestRefreshDumpsWhatMayHaveChanged: PollRefresh dumps a namespace's listeners
// only where they may have changed since its last dump. A second listen()
// with another backlog changes a queue's limit and nothing else (no packet,
// no state change), so it shows whether a namespace was dumped: not while
// the sandbox is quiet, yes when PollRefresh is told the sandbox changed, when
// its devices moved (a connection waits in the queue), and when its queue
// was not empty at the last dump (accept() emptied it without a packet).
func TestRefreshDumpsWhatMayHaveChanged(t *testing.T) {
	roottest.Require(t)
	n := sandbox.NewForTest(t)
	fd, a := listen(t, n, "127.0.0.1:0", 4)
	defer unix.Close(fd)
	w := NewWatcher("/proc", nil)
	defer w.Close()
	mine := func() Listener {
		t.Helper()
		for _, l := range w.Listeners() {
			if l.Netns == n.Inode() && l.Addr == a {
				return l
			}
		}
		t.Fatalf("the Watcher lost %v", a)
		return Listener{}
	}
	refresh := func(changed map[uint32]bool) Listener {
		t.Helper()
		if _, err := w.Poll(PollRefresh, changed); err != nil {
			t.Logf("PollRefresh: %v", err) // other namespaces of the machine
		}
		return mine()
	}
	relisten := func(backlog int) {
		t.Helper()
		if err := unix.Listen(fd, backlog); err != nil {
			t.Fatal(err)
		}
	}
	pollLog(t, w) // the first read of the sandbox's devices: nothing moved since

	relisten(9)
	if l := refresh(nil); l.MaxBacklog != 4 {
		t.Fatalf("a quiet namespace was dumped: limit %d, want the old 4", l.MaxBacklog)
	}
	if l := refresh(map[uint32]bool{n.Inode(): true}); l.MaxBacklog != 9 {
		t.Fatalf("a namespace named changed was not dumped: limit %d, want 9", l.MaxBacklog)
	}

	conns, err := n.StartConnects(a, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(conns)
	if err := sandbox.WaitAccepted(fd, 1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if l := refresh(nil); l.Backlog != 1 {
		t.Fatalf("after a connection, queue %d, want 1: a namespace whose devices moved was not dumped", l.Backlog)
	}
	accepted, _, err := unix.Accept(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(accepted)
	if l := refresh(nil); l.Backlog != 0 {
		t.Fatalf("after accept(), queue %d, want 0: a namespace whose queue was not empty was not dumped", l.Backlog)
	}

	pollLog(t, w)
	pollLog(t, w) // quiet again
	relisten(4)
	if l := refresh(nil); l.MaxBacklog != 9 {
		t.Errorf("a quiet namespace with empty queues was dumped: limit %d, want the old 9", l.MaxBacklog)
	}
}
