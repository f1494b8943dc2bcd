// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"maps"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// TestKernelListenerTableFollowsTheRules: the listener table as the
// listen-state program keeps it, never set from user space, is the one
// ListenerTable makes of the same sockets: for a dual-stack listener on
// any address, and for two SO_REUSEPORT listeners sharing an address.
func TestKernelListenerTableFollowsTheRules(t *testing.T) {
	p := openProbe(t, Options{MatchListeners: true})
	if err := p.ListenStateErr(); err != nil {
		t.Fatalf("the listen-state program: %v", err)
	}
	t.Run("dual stack", func(t *testing.T) {
		ns := sandbox.NewForTest(t)
		addr := netip.MustParseAddrPort("[::]:7100")
		fd, err := ns.Listen(addr, 16)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = unix.Close(fd) })
		wantKernelTable(t, p, ns, ListeningSocket{Netns: ns.Inode(), Addr: addr, Inode: socketInode(t, fd)})
	})
	for _, c := range []struct {
		name       string
		lowerFirst bool
	}{
		{"SO_REUSEPORT, the lower inode listening first", true},
		{"SO_REUSEPORT, the higher inode listening first", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := sandbox.NewForTest(t)
			addr := netip.MustParseAddrPort("127.0.0.1:7101")
			fds := reusePortSockets(t, ns, addr)
			socks := make([]ListeningSocket, len(fds))
			for i, fd := range fds {
				socks[i] = ListeningSocket{Netns: ns.Inode(), Addr: addr, Inode: socketInode(t, fd)}
			}
			if (socks[0].Inode < socks[1].Inode) != c.lowerFirst {
				fds[0], fds[1] = fds[1], fds[0]
			}
			for _, fd := range fds {
				if err := unix.Listen(fd, 16); err != nil {
					t.Fatal(err)
				}
			}
			wantKernelTable(t, p, ns, socks...)
		})
	}
}

// reusePortSockets makes two TCP sockets in ns bound to addr with
// SO_REUSEPORT, not yet listening.
func reusePortSockets(t *testing.T, ns *sandbox.Netns, addr netip.AddrPort) []int {
	t.Helper()
	var fds []int
	t.Cleanup(func() {
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
	})
	err := ns.Do(func() error {
		for range 2 {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			fds = append(fds, fd)
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
				return err
			}
			if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: addr.Addr().As4(), Port: int(addr.Port())}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fds
}

// wantKernelTable checks that the kernel's listener table has, for ns,
// ListenerTable's entries for socks and nothing else.
func wantKernelTable(t *testing.T, p *Probe, ns *sandbox.Netns, socks ...ListeningSocket) {
	t.Helper()
	got := map[ListenerAddr]uint64{}
	var key tcpdropListenerKey
	var ino uint64
	it := p.objs.TcpdropListeners.Iterate()
	for it.Next(&key, &ino) {
		if key.Netns != ns.Inode() {
			continue
		}
		addr := netip.AddrFrom16(key.Addr)
		if key.Family == 4 {
			addr = netip.AddrFrom4([4]byte(key.Addr[:4]))
		}
		got[ListenerAddr{Netns: key.Netns, Addr: netip.AddrPortFrom(addr, key.Port)}] = ino
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if want := ListenerTable(socks); !maps.Equal(got, want) {
		t.Errorf("the kernel's listener table for the sandbox is %v; the rules make it %v", got, want)
	}
}
