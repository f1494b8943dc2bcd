// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// TestDump checks each field of a Listener against what the test made: a
// listener in a sandbox, IPv4 and IPv6, read from inside the namespace and
// through a namespace handle from outside.
func TestDump(t *testing.T) {
	roottest.Require(t)
	n := sandbox.NewForTest(t)
	fd4, a4 := listen(t, n, "127.0.0.1:0", 5)
	defer unix.Close(fd4)
	fd6, a6 := listen(t, n, "[::1]:0", 7)
	defer unix.Close(fd6)

	ls := dumpIn(t, n)
	for _, c := range []struct {
		fd      int
		addr    netip.AddrPort
		backlog uint32
	}{{fd4, a4, 5}, {fd6, a6, 7}} {
		l, ok := find(ls, c.addr)
		if !ok {
			t.Fatalf("Dump did not return %v: %+v", c.addr, ls)
		}
		if l.Netns != n.Inode() || l.Inode != inodeOf(t, c.fd) || l.MaxBacklog != c.backlog || l.Backlog != 0 ||
			l.Drops != 0 || l.Cookie == 0 {
			t.Errorf("%v: got %+v; want netns %d, inode %d, max backlog %d, nothing queued or dropped, a cookie",
				c.addr, l, n.Inode(), inodeOf(t, c.fd), c.backlog)
		}
	}
	if len(ls) != 2 {
		t.Errorf("Dump returned %d listeners, want 2: %+v", len(ls), ls)
	}

	// Two connections wait in the IPv4 accept queue.
	fds, err := n.StartConnects(a4, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(fds)
	if err := sandbox.WaitAccepted(fd4, 2, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if l, _ := find(dumpIn(t, n), a4); l.Backlog != 2 {
		t.Fatalf("accept queue of %v holds %d, want 2", a4, l.Backlog)
	}

	// The same through a handle, from a thread outside the namespace.
	var h netns.NsHandle
	err = n.Do(func() error {
		var err error
		h, err = netns.GetFromPath("/proc/thread-self/ns/net")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	out, err := Dump(h)
	if err != nil {
		t.Fatalf("Dump(handle): %v", err)
	}
	if l, ok := find(out, a4); !ok || l.Backlog != 2 || l.Netns != n.Inode() {
		t.Errorf("Dump(handle) of %v = %+v, %v", a4, l, ok)
	}
	// The calling thread is back in its own namespace: nothing of the sandbox.
	own, err := Dump(netns.None())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := find(own, a4); ok {
		t.Errorf("Dump(None) from outside saw the sandbox's listener")
	}
}

// TestDumpV6Only: an IPv6 listener says whether it takes IPv4 connections
// too; IPv4 listeners never set V6Only.
func TestDumpV6Only(t *testing.T) {
	roottest.Require(t)
	n := sandbox.NewForTest(t)
	if !n.HasIPv6() {
		t.Skip("no IPv6 in the sandbox")
	}
	fd4, a4 := listen(t, n, "127.0.0.1:0", 1)
	defer unix.Close(fd4)
	fdDual, dual := listen(t, n, "[::]:0", 1)
	defer unix.Close(fdDual)
	fdOnly, err := n.ListenV6Only(netip.MustParseAddrPort("[::]:0"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fdOnly)
	only, err := sandbox.LocalAddr(fdOnly)
	if err != nil {
		t.Fatal(err)
	}
	ls := dumpIn(t, n)
	for addr, want := range map[netip.AddrPort]bool{a4: false, dual: false, only: true} {
		l, ok := find(ls, addr)
		if !ok || l.V6Only != want {
			t.Errorf("%v: found %v, V6Only %v; want V6Only %v", addr, ok, l.V6Only, want)
		}
	}
}
