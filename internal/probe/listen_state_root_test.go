// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// TestListenerKnownAtListen: with the listener table never set from user
// space, SYNs a firewall rule drops right after listen() (the first within
// a few milliseconds) are attributed to the new listener, found by the
// listen-state program: IPv4, IPv6, and IPv4 to an IPv6 socket bound to any
// address. After close() its entries are gone: the same drops have no
// socket.
func TestListenerKnownAtListen(t *testing.T) {
	for i, tc := range []struct{ listen, dst string }{
		{"127.0.0.1", "127.0.0.1"},
		{"::1", "::1"},
		{"::", "127.0.0.1"},
	} {
		t.Run(fmt.Sprintf("listen on %s, connect to %s", tc.listen, tc.dst), func(t *testing.T) {
			port := uint16(7080 + i)
			p := openProbe(t, Options{MatchListeners: true})
			if err := p.ListenStateErr(); err != nil {
				t.Fatalf("the listen-state program: %v", err)
			}
			ns := sandbox.NewForTest(t)
			if _, err := ns.DropTCPPort(port); err != nil {
				t.Fatal(err)
			}
			events := collect(t, p)
			fd, err := ns.Listen(netip.AddrPortFrom(netip.MustParseAddr(tc.listen), port), 16)
			if err != nil {
				t.Fatal(err)
			}
			listened := time.Now()
			ino := socketInode(t, fd)
			dst := netip.AddrPortFrom(netip.MustParseAddr(tc.dst), port)
			if err := ns.ConnectTimeout(dst, 3, 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			toDst := func(e *Event) bool { return e.NetnsInode == ns.Inode() && e.Dst.Port() == port }
			got := events.waitFor(t, 3, toDst)
			for _, e := range got {
				if e.SocketInode != ino {
					t.Errorf("a SYN to %v dropped %v after listen(): socket inode %d, want the listener's %d", e.Dst, e.Time.Sub(listened), e.SocketInode, ino)
				}
			}

			if err := unix.Close(fd); err != nil {
				t.Fatal(err)
			}
			if err := ns.ConnectTimeout(dst, 2, 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			after := events.waitFor(t, 5, toDst)[3:]
			for _, e := range after {
				if e.SocketInode != 0 {
					t.Errorf("a SYN dropped after close(): socket inode %d, want none", e.SocketInode)
				}
			}
		})
	}
}

// TestListenersChangedIn: the kernel's listener table, as set, names no
// namespace; a socket that starts listening in a sandbox names the
// sandbox's; once the table is set with it, none again; when it stops
// listening, the sandbox's again.
func TestListenersChangedIn(t *testing.T) {
	p := openProbe(t, Options{MatchListeners: true})
	if err := p.ListenStateErr(); err != nil {
		t.Fatalf("the listen-state program: %v", err)
	}
	ns := sandbox.NewForTest(t)
	want := func(step string, netns ...uint32) {
		t.Helper()
		got, err := p.ListenersChangedIn()
		if err != nil {
			t.Fatal(err)
		}
		// Other namespaces of the machine may change meanwhile: only the
		// sandbox's entry is asserted.
		if got[ns.Inode()] != (len(netns) > 0) {
			t.Errorf("%s: changed in %v; the sandbox (%d) should be there: %v", step, got, ns.Inode(), len(netns) > 0)
		}
	}
	if err := p.SetListeners(nil); err != nil {
		t.Fatal(err)
	}
	want("table set")
	addr := netip.MustParseAddrPort("127.0.0.1:7090")
	fd, err := ns.Listen(addr, 16)
	if err != nil {
		t.Fatal(err)
	}
	want("after listen()", ns.Inode())
	if err := p.SetListeners(map[ListenerAddr]uint64{{Netns: ns.Inode(), Addr: addr}: socketInode(t, fd)}); err != nil {
		t.Fatal(err)
	}
	want("table set with it")
	if err := unix.Close(fd); err != nil {
		t.Fatal(err)
	}
	want("after close()", ns.Inode())
}
