// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// refusedConnects makes count blocking connects in ns to addr, a closed
// port, each of which must fail with ECONNREFUSED, and returns their
// sockets' inodes.
func refusedConnects(ns *sandbox.Netns, addr netip.AddrPort, count int) (map[uint64]bool, error) {
	inodes := map[uint64]bool{}
	err := ns.Do(func() error {
		for range count {
			fd, sa, err := tcpSocketFor(addr)
			if err != nil {
				return err
			}
			var st unix.Stat_t
			if err := unix.Fstat(fd, &st); err != nil {
				unix.Close(fd)
				return err
			}
			inodes[st.Ino] = true
			err = unix.Connect(fd, sa)
			unix.Close(fd)
			if !errors.Is(err, unix.ECONNREFUSED) {
				return fmt.Errorf("connect to %v: %w; want ECONNREFUSED", addr, err)
			}
		}
		return nil
	})
	return inodes, err
}

// tcpClose is TCP_CLOSE, as TCP_INFO's state says it.
const tcpClose = 7

// failingConnects makes count non-blocking connects in ns to addr, whose
// SYNs are dropped or answered with an ICMP error, and waits until each
// has failed with want; it returns their sockets' inodes. Each socket
// sends one SYN retransmission (TCP_SYNCNT 1) and gives up once
// TCP_USER_TIMEOUT has passed: at the first timer after that, about 1s
// after the connect where the kernel clamps the retransmission timer to
// the user timeout, else 3s. An ICMP error ends it at once unless the
// socket was held by its user (connect() still running): then it ends at
// that timer, with the ICMP's error.
func failingConnects(ns *sandbox.Netns, addr netip.AddrPort, count int, want unix.Errno) (map[uint64]bool, error) {
	inodes := map[uint64]bool{}
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	err := ns.Do(func() error {
		for range count {
			fd, sa, err := tcpSocketFor(addr)
			if err != nil {
				return err
			}
			fds = append(fds, fd)
			if err := unix.SetNonblock(fd, true); err != nil {
				return err
			}
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_SYNCNT, 1); err != nil {
				return err
			}
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, 100); err != nil {
				return err
			}
			var st unix.Stat_t
			if err := unix.Fstat(fd, &st); err != nil {
				return err
			}
			inodes[st.Ino] = true
			if err := unix.Connect(fd, sa); !errors.Is(err, unix.EINPROGRESS) {
				return fmt.Errorf("connect to %v: %w; want EINPROGRESS", addr, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Waits for the socket's CLOSE, not for poll: POLLERR and SO_ERROR
	// report a soft error (an ICMP error that came while connect() held
	// the socket) while the kernel still retries in SYN_SENT, and reading
	// SO_ERROR then clears it.
	deadline := time.Now().Add(10 * time.Second)
	for _, fd := range fds {
		for {
			ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
			if err != nil {
				return nil, err
			}
			if ti.State == tcpClose {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("connect to %v: not failed after 10s (state %d)", addr, ti.State)
			}
			time.Sleep(10 * time.Millisecond)
		}
		soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return nil, err
		}
		if unix.Errno(soerr) != want {
			return nil, fmt.Errorf("connect to %v: %w; want %v", addr, unix.Errno(soerr), unix.ErrnoName(want))
		}
	}
	return inodes, nil
}

// TestFailedConnectsEqualAttemptFails: the connects a namespace makes that
// fail, refused by a closed port (ECONNREFUSED) and timed out because a
// firewall drops their SYNs (ETIMEDOUT), are counted exactly by errno, as
// its Tcp:AttemptFails grows, each with its socket as owner, and each is an
// event; the process that connected each socket is its birth record.
// Connects the application gives up, closed in SYN_SENT, are no
// failure: neither counted here nor in AttemptFails. A port filter tells
// this namespace's connects from the host's in the counts.
func TestFailedConnectsEqualAttemptFails(t *testing.T) {
	forEachLoopback(t, func(t *testing.T, ns *sandbox.Netns, addr netip.Addr) {
		closed := unusedPort(t, ns, addr)
		dropped := unusedPort(t, ns, addr)
		for dropped == closed {
			dropped = unusedPort(t, ns, addr)
		}
		if _, err := ns.DropTCPPort(dropped); err != nil {
			t.Fatal(err)
		}
		// SocketBirths: the listen-state program runs on the same
		// tracepoint, and records who connected each socket.
		p := openProbe(t, Options{FailedConnects: true, SocketBirths: true, Filter: Filter{Ports: []uint16{closed, dropped}}})
		if err := p.ListenStateErr(); err != nil {
			t.Fatal(err)
		}
		events := collect(t, p)

		const refused, timedOut, givenUp = 20, 10, 5
		before := netstat(t, ns)["Tcp:AttemptFails"]
		owners, err := refusedConnects(ns, netip.AddrPortFrom(addr, closed), refused)
		if err != nil {
			t.Fatal(err)
		}
		timedOwners, err := failingConnects(ns, netip.AddrPortFrom(addr, dropped), timedOut, unix.ETIMEDOUT)
		if err != nil {
			t.Fatal(err)
		}
		for ino := range timedOwners {
			owners[ino] = true
		}
		// Closed in SYN_SENT, their SYN unanswered: given up, not failed.
		if err := ns.ConnectTimeout(netip.AddrPortFrom(addr, dropped), givenUp, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		grew := netstat(t, ns)["Tcp:AttemptFails"] - before
		if grew != refused+timedOut {
			t.Errorf("Tcp:AttemptFails grew by %d, want %d", grew, refused+timedOut)
		}

		mine := func(e *Event) bool { return e.Kind == KindConnectFailed && e.NetnsInode == ns.Inode() }
		got := events.waitFor(t, refused+timedOut, mine)
		byErrno := map[string]int{}
		for _, e := range got {
			name := ConnectErrorName(e.Reason)
			byErrno[name]++
			port := closed
			if name == "ETIMEDOUT" {
				port = dropped
			}
			if !owners[e.SocketInode] || e.State.String() != "syn_sent" || !e.HasReason || e.Location != 0 || e.TCPFlags != 0 {
				t.Errorf("%s: owner %d, state %v, HasReason %v, Location %#x, flags %v; want a test socket, syn_sent, true, 0, none",
					name, e.SocketInode, e.State, e.HasReason, e.Location, e.TCPFlags)
			}
			if b, ok := p.SocketBirth(e.SocketInode); !ok || b.PID != os.Getpid() {
				t.Errorf("%s: socket %d connected by %+v (known %v); want this process, %d", name, e.SocketInode, b, ok, os.Getpid())
			}
			if e.Src.Addr() != addr || e.Src.Port() == 0 || e.Dst != netip.AddrPortFrom(addr, port) {
				t.Errorf("%s: from %v to %v; want from %v, to %v", name, e.Src, e.Dst, addr, netip.AddrPortFrom(addr, port))
			}
		}
		if byErrno["ECONNREFUSED"] != refused || byErrno["ETIMEDOUT"] != timedOut {
			t.Errorf("failed connects by errno %v; want ECONNREFUSED %d, ETIMEDOUT %d", byErrno, refused, timedOut)
		}

		c, err := p.TakeCounts()
		if err != nil {
			t.Fatal(err)
		}
		counted := map[string]uint64{}
		var total uint64
		for _, k := range c.ByKey {
			if k.Kind != KindConnectFailed || k.Filtered {
				continue
			}
			if !owners[k.SocketInode] || !k.HasReason || k.State.String() != "syn_sent" {
				t.Errorf("count %+v: want a test socket's, with its errno, syn_sent", k)
			}
			counted[ConnectErrorName(k.Reason)] += k.Packets
			total += k.Packets
		}
		t.Logf("Tcp:AttemptFails +%d: counted %d %v (%d given up, counted in neither)", grew, total, counted, givenUp)
		if total != grew || counted["ECONNREFUSED"] != refused || counted["ETIMEDOUT"] != timedOut {
			t.Errorf("counted %d failed connects %v; want %d (Tcp:AttemptFails grew %d): ECONNREFUSED %d, ETIMEDOUT %d",
				total, counted, refused+timedOut, grew, refused, timedOut)
		}
		if c.Lost != 0 || c.Shed != 0 || c.Uncounted != 0 {
			t.Errorf("losses: lost %d, shed %d, uncounted %d", c.Lost, c.Shed, c.Uncounted)
		}
	})
}

// TestFailedConnectsOfICMPErrors: a connect answered with an ICMP host
// unreachable error (an nftables reject rule in the namespace) fails with
// EHOSTUNREACH, IPv4 and IPv6, which tcp_v4_err/tcp_v6_err set as the
// socket's error (or leave as its soft error, for tcp_write_err to set):
// counted exactly, as Tcp:AttemptFails grows.
func TestFailedConnectsOfICMPErrors(t *testing.T) {
	forEachLoopback(t, func(t *testing.T, ns *sandbox.Netns, addr netip.Addr) {
		port := unusedPort(t, ns, addr)
		if _, err := ns.RejectTCPPortHostUnreachable(port); err != nil {
			t.Skipf("no nftables reject (nft_reject_inet): %v", err)
		}
		p := openProbe(t, Options{FailedConnects: true, Filter: Filter{Ports: []uint16{port}}})
		events := collect(t, p)

		const unreachable = 5
		before := netstat(t, ns)["Tcp:AttemptFails"]
		owners, err := failingConnects(ns, netip.AddrPortFrom(addr, port), unreachable, unix.EHOSTUNREACH)
		if err != nil {
			t.Fatal(err)
		}
		grew := netstat(t, ns)["Tcp:AttemptFails"] - before
		mine := func(e *Event) bool { return e.Kind == KindConnectFailed && e.NetnsInode == ns.Inode() }
		for _, e := range events.waitFor(t, unreachable, mine) {
			if ConnectErrorName(e.Reason) != "EHOSTUNREACH" || !owners[e.SocketInode] {
				t.Errorf("failed connect %s of socket %d; want EHOSTUNREACH of a test socket", ConnectErrorName(e.Reason), e.SocketInode)
			}
		}
		c, err := p.TakeCounts()
		if err != nil {
			t.Fatal(err)
		}
		var counted uint64
		for _, k := range c.ByKey {
			if k.Kind == KindConnectFailed && !k.Filtered && ConnectErrorName(k.Reason) == "EHOSTUNREACH" {
				counted += k.Packets
			}
		}
		t.Logf("Tcp:AttemptFails +%d: counted EHOSTUNREACH %d", grew, counted)
		if grew != unreachable || counted != grew {
			t.Errorf("Tcp:AttemptFails grew by %d, counted %d EHOSTUNREACH; want %d each", grew, counted, unreachable)
		}
	})
}
