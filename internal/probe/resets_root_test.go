// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
)

// unusedPort is a port of addr's family nothing in ns listens on.
func unusedPort(t *testing.T, ns *sandbox.Netns, addr netip.Addr) uint16 {
	t.Helper()
	fd, a, _ := listenIn(t, ns, netip.AddrPortFrom(addr, 0).String(), 1)
	if err := unix.Close(fd); err != nil {
		t.Fatal(err)
	}
	return a.Port()
}

// tcpSocketFor is a blocking TCP socket of addr's family, and addr as a
// sockaddr.
func tcpSocketFor(addr netip.AddrPort) (int, unix.Sockaddr, error) {
	family := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: addr.Addr().As16()}
	if addr.Addr().Is4() {
		family = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	return fd, sa, err
}

// TestResetsEqualOutRsts: the resets a namespace sends, to a closed port
// (NO_SOCKET) and on closing a connection with unread data
// (TCP_ABORT_ON_CLOSE), are counted exactly as its Tcp:OutRsts grows,
// with their reasons and owners, and each is an event. A port filter tells
// this namespace's resets from the host's in the counts (count_key.filtered).
// A kernel before 6.10 passes no reasons and does not trace a reset sent
// without a full socket: there the aborts are counted, without a reason,
// and the resets to the closed port are asserted missing. Without a port
// filter the program reads a reset's packet only for its event, after the
// count: the events are the same, and the counts are at least this
// namespace's (the host's resets are in them too), those of the aborted
// sockets exact.
func TestResetsEqualOutRsts(t *testing.T) {
	for _, portFilter := range []bool{true, false} {
		name := "port-filter"
		if !portFilter {
			name = "no-filter"
		}
		t.Run(name, func(t *testing.T) { resetsEqualOutRsts(t, portFilter) })
	}
}

func resetsEqualOutRsts(t *testing.T, portFilter bool) {
	reasons, err := dropreason.ResetsFromKernel()
	if err != nil {
		t.Fatal(err)
	}
	traced := reasons.Available() // 6.10+: socket-less resets too, with reasons
	forEachLoopback(t, func(t *testing.T, ns *sandbox.Netns, addr netip.Addr) {
		lfd, server, _ := listenIn(t, ns, netip.AddrPortFrom(addr, 0).String(), 64)
		closed := unusedPort(t, ns, addr)
		opts := Options{Resets: true}
		if portFilter {
			opts.Filter = Filter{Ports: []uint16{server.Port(), closed}}
		}
		p := openProbe(t, opts)
		events := collect(t, p)

		const refused, aborted = 20, 10
		before := netstat(t, ns)["Tcp:OutRsts"]
		if err := ns.ConnectRefused(netip.AddrPortFrom(addr, closed), refused); err != nil {
			t.Fatal(err)
		}
		inodes, err := ns.AbortOnClose(lfd, server, aborted)
		if err != nil {
			t.Fatal(err)
		}
		owners := map[uint64]bool{}
		for _, ino := range inodes {
			owners[ino] = true
		}
		grew := netstat(t, ns)["Tcp:OutRsts"] - before
		if grew != refused+aborted {
			t.Fatalf("Tcp:OutRsts grew by %d, want %d", grew, refused+aborted)
		}

		want := grew
		if !traced {
			want = aborted
		}
		mine := func(e *Event) bool { return e.Kind == KindReset && e.NetnsInode == ns.Inode() }
		got := events.waitFor(t, int(want), mine)
		byReason := map[string]int{}
		for _, e := range got {
			if !traced {
				if e.HasReason || !owners[e.SocketInode] || e.Src != server || e.TCPFlags != FlagRST|FlagACK {
					t.Errorf("reset before 6.10: HasReason %v, owner %d, from %v, flags %v; want an abort, no reason, from %v, ACK|RST",
						e.HasReason, e.SocketInode, e.Src, e.TCPFlags, server)
				}
				continue
			}
			name := reasons.Name(e.Reason)
			byReason[name]++
			switch name {
			case "NO_SOCKET":
				if e.SocketInode != 0 || e.Src.Port() != closed || e.Src.Addr() != addr || e.TCPFlags&FlagRST == 0 {
					t.Errorf("NO_SOCKET reset: owner %d, from %v, flags %v; want none, from port %d, RST", e.SocketInode, e.Src, e.TCPFlags, closed)
				}
			case "TCP_ABORT_ON_CLOSE":
				if !owners[e.SocketInode] || e.State.String() != "closed" || e.Src != server || e.TCPFlags != FlagRST|FlagACK {
					t.Errorf("TCP_ABORT_ON_CLOSE reset: owner %d (%v), from %v, flags %v; want an accepted socket %v (closed), from %v, ACK|RST",
						e.SocketInode, e.State, e.Src, e.TCPFlags, owners, server)
				}
			}
			if !e.HasReason || e.Location != 0 {
				t.Errorf("reset event: HasReason %v, Location %#x; want true, 0", e.HasReason, e.Location)
			}
		}
		if traced && (byReason["NO_SOCKET"] != refused || byReason["TCP_ABORT_ON_CLOSE"] != aborted) {
			t.Errorf("resets by reason %v; want NO_SOCKET %d, TCP_ABORT_ON_CLOSE %d", byReason, refused, aborted)
		}

		c, err := p.TakeCounts()
		if err != nil {
			t.Fatal(err)
		}
		var counted, ofOwners uint64
		for _, k := range c.ByKey {
			if k.Kind != KindReset || k.Filtered {
				continue
			}
			counted += k.Packets
			if owners[k.SocketInode] {
				ofOwners += k.Packets
			}
		}
		if (portFilter && counted != want) || counted < want || ofOwners != aborted {
			t.Errorf("counted %d resets, %d of the aborted sockets; want %d (Tcp:OutRsts grew %d; socket-less traced: %v), %d",
				counted, ofOwners, want, grew, traced, aborted)
		}
		if c.Lost != 0 || c.Shed != 0 || c.Uncounted != 0 {
			t.Errorf("losses: lost %d, shed %d, uncounted %d", c.Lost, c.Shed, c.Uncounted)
		}
	})
}
