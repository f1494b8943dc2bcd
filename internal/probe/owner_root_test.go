// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// socketInode is the inode of fd's socket: the N of socket:[N].
func socketInode(t *testing.T, fd int) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// listenIn opens a listener in ns on addr and returns its fd, address and
// socket inode.
func listenIn(t *testing.T, ns *sandbox.Netns, addr string, backlog int) (int, netip.AddrPort, uint64) {
	t.Helper()
	fd, err := ns.Listen(netip.MustParseAddrPort(addr), backlog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	a, err := sandbox.LocalAddr(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, a, socketInode(t, fd)
}

// TestFirewalledListener: packets a firewall rule drops before they reach
// their listener carry no socket; with the listener table filled, the
// program finds the listener by namespace, address and port, in the events
// and in the exact counts, with reason NETFILTER_DROP or, before 5.17,
// none. The rule's own counter is the number of packets.
func TestFirewalledListener(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			p := openProbe(t, Options{MatchListeners: true})
			names := loadNames(t)
			ns := sandbox.NewForTest(t)
			_, a, ino := listenIn(t, ns, addr, 16)
			if err := p.SetListeners(map[ListenerAddr]uint64{{Netns: ns.Inode(), Addr: a}: ino}); err != nil {
				t.Fatal(err)
			}
			rule, err := ns.DropTCPPort(a.Port())
			if err != nil {
				t.Fatal(err)
			}
			events := collect(t, p)
			if err := ns.ConnectTimeout(a, 3, 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			dropped, err := rule.Packets()
			if err != nil || dropped < 3 {
				t.Fatalf("the rule counted %d packets (%v), want at least the 3 SYNs", dropped, err)
			}
			nfDrop := names.expect(t, "NETFILTER_DROP")
			got := events.waitFor(t, int(dropped), func(e *Event) bool {
				return e.NetnsInode == ns.Inode() && e.Dst == a
			})
			for _, e := range got {
				if e.SocketInode != ino || !nfDrop.matches(&e) {
					t.Errorf("socket inode %d, reason %s; want the listener's %d, %s", e.SocketInode, names.got(&e), ino, nfDrop.name)
				}
			}
			counts, err := p.TakeCounts()
			if err != nil {
				t.Fatal(err)
			}
			if counted := packetsOfSocket(counts, ino); counted != dropped {
				t.Errorf("counted %d drops for the listener's socket, the rule dropped %d", counted, dropped)
			}

			// Gone from the table: the same drops have no socket.
			if err := p.SetListeners(nil); err != nil {
				t.Fatal(err)
			}
			if err := ns.ConnectTimeout(a, 1, 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			more := events.waitFor(t, int(dropped)+1, func(e *Event) bool {
				return e.NetnsInode == ns.Inode() && e.Dst == a
			})
			if last := more[len(more)-1]; last.SocketInode != 0 {
				t.Errorf("socket inode %d after the listener left the table, want 0", last.SocketInode)
			}
		})
	}
}

// TestFirewalledListenersByAddress: listeners sharing a port on different
// addresses each get the packets sent to their own address; a listener
// bound to any address gets those sent to addresses no other listener has.
// Each listener's count equals the events sent to it, and they add up to
// the firewall rules' own counters.
func TestFirewalledListenersByAddress(t *testing.T) {
	p := openProbe(t, Options{MatchListeners: true})
	ns := sandbox.NewForTest(t)
	_, one, inoOne := listenIn(t, ns, "127.0.0.1:0", 16)
	_, two, inoTwo := listenIn(t, ns, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), one.Port()).String(), 16)
	_, any4, inoAny4 := listenIn(t, ns, "0.0.0.0:0", 16)
	table := map[ListenerAddr]uint64{
		{Netns: ns.Inode(), Addr: one}: inoOne, {Netns: ns.Inode(), Addr: two}: inoTwo, {Netns: ns.Inode(), Addr: any4}: inoAny4,
	}
	sent := map[netip.AddrPort]uint64{ // destination -> the listener it goes to
		one: inoOne, two: inoTwo,
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), any4.Port()): inoAny4,
	}
	ports := []uint16{one.Port(), any4.Port()}
	if ns.HasIPv6() {
		_, six, inoSix := listenIn(t, ns, "[::1]:0", 16)
		_, any6, inoAny6 := listenIn(t, ns, "[::]:0", 16)
		table[ListenerAddr{Netns: ns.Inode(), Addr: six}] = inoSix
		table[ListenerAddr{Netns: ns.Inode(), Addr: any6}] = inoAny6
		sent[six] = inoSix
		sent[netip.AddrPortFrom(netip.IPv6Loopback(), any6.Port())] = inoAny6
		ports = append(ports, six.Port(), any6.Port())
	}
	if err := p.SetListeners(table); err != nil {
		t.Fatal(err)
	}
	var rules []*sandbox.NftRule
	for _, port := range ports {
		rule, err := ns.DropTCPPort(port)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, rule)
	}
	events := collect(t, p)
	for dst := range sent {
		if err := ns.ConnectTimeout(dst, 2, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	var dropped uint64
	for _, rule := range rules {
		n, err := rule.Packets()
		if err != nil {
			t.Fatal(err)
		}
		dropped += n
	}
	got := events.waitFor(t, int(dropped), func(e *Event) bool { return e.NetnsInode == ns.Inode() })
	perListener := map[uint64]uint64{}
	for _, e := range got {
		if want, ok := sent[e.Dst]; !ok || e.SocketInode != want {
			t.Errorf("a drop to %v has socket inode %d, want %d", e.Dst, e.SocketInode, want)
		}
		perListener[e.SocketInode]++
	}
	counts, err := p.TakeCounts()
	if err != nil {
		t.Fatal(err)
	}
	var counted uint64
	for _, ino := range sent {
		n := packetsOfSocket(counts, ino)
		if n != perListener[ino] {
			t.Errorf("socket %d: counted %d, %d events", ino, n, perListener[ino])
		}
		counted += n
	}
	if counted != dropped {
		t.Errorf("counted %d drops for the listeners, the rules dropped %d", counted, dropped)
	}
}

// TestHandshakeOverflowSocket: a segment completing a handshake into a full
// accept queue (ACK path; see internal/listeners) is freed with reason
// TCP_LISTEN_OVERFLOW (6.16+), else NOT_SPECIFIED (none before 5.17), and
// the listener as its socket (6.11+; before, with none). The program
// reports the listener's inode where the kernel passes it; skipped (for the
// listen watcher to count), the overflows go and exactly the listener's
// other drops stay: the bare ACKs TCP_DEFER_ACCEPT drops, which the kernel
// counts in TcpExt:TCPDeferAcceptDrop. Before 6.11 the program finds the
// listener through the listener table.
func TestHandshakeOverflowSocket(t *testing.T) {
	names := loadNames(t)
	features, err := KernelFeatures()
	if err != nil {
		t.Fatal(err)
	}
	overflow, named := names.reasons.Value("TCP_LISTEN_OVERFLOW")
	unspecified := names.expect(t, "NOT_SPECIFIED")
	isOverflow := func(e *Event) bool {
		if named {
			return e.Reason == overflow
		}
		return unspecified.matches(e)
	}
	for _, skip := range []bool{false, true} {
		name := "reported"
		if skip {
			name = "skipped"
		}
		t.Run(name, func(t *testing.T) {
			opts := Options{MatchListeners: true}
			if skip && named {
				opts.SkipReason = overflow
			} else if skip {
				opts.SkipQueueFull = true
			}
			p := openProbe(t, opts)
			ns := sandbox.NewForTest(t)
			fd, a, ino := listenIn(t, ns, "127.0.0.1:0", 1)
			// TCP_DEFER_ACCEPT holds the handshakes open until the clients
			// send data, by then into a full queue.
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 5); err != nil {
				t.Fatal(err)
			}
			if err := p.SetListeners(map[ListenerAddr]uint64{{Netns: ns.Inode(), Addr: a}: ino}); err != nil {
				t.Fatal(err)
			}
			wantIno := ino
			if !features.Socket {
				wantIno = 0 // the kernel passes no socket
			}
			events := collect(t, p)
			before, err := ns.Netstat()
			if err != nil {
				t.Fatal(err)
			}
			clients, err := ns.StartConnects(a, 6)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				for _, c := range clients {
					_ = unix.Close(c)
				}
			}()
			// Time is the condition: the handshakes that the full queue
			// lets through complete, the others wait on the SYN timer.
			time.Sleep(300 * time.Millisecond)
			for _, c := range clients {
				_, _ = unix.Write(c, []byte("x"))
			}
			time.Sleep(time.Second) // the kernel's retransmission timers fire: more overflows
			mine := func(e *Event) bool { return e.NetnsInode == ns.Inode() && e.Dst == a }
			got, netstat := settled(t, ns, events, mine)
			deferDrops := netstat["TcpExt:TCPDeferAcceptDrop"] - before["TcpExt:TCPDeferAcceptDrop"]
			overflows := netstat["TcpExt:ListenOverflows"] - before["TcpExt:ListenOverflows"]
			var ackPath uint64
			for _, e := range got {
				if e.SocketInode != wantIno {
					t.Errorf("socket inode %d, want %d", e.SocketInode, wantIno)
				}
				if isOverflow(&e) && e.TCPFlags != FlagACK {
					ackPath++ // not the bare ACKs TCP_DEFER_ACCEPT drops
				}
			}
			t.Logf("%d drops of the listener (%d with data); TCPDeferAcceptDrop +%d, ListenOverflows +%d",
				len(got), ackPath, deferDrops, overflows)
			if features.Socket {
				counts, err := p.TakeCounts()
				if err != nil {
					t.Fatal(err)
				}
				if counted := packetsOfSocket(counts, ino); counted != uint64(len(got)) {
					t.Errorf("counted %d for the listener, %d events", counted, len(got))
				}
			}
			if skip {
				if uint64(len(got)) != deferDrops {
					t.Errorf("%d drops of the listener left, want exactly TCP_DEFER_ACCEPT's %d", len(got), deferDrops)
				}
				return
			}
			if ackPath == 0 {
				t.Fatal("no overflow on the ACK path: the test did not overflow the accept queue")
			}
			if extra := uint64(len(got)) - deferDrops; extra > overflows {
				t.Errorf("%d drops beyond TCP_DEFER_ACCEPT's %d, more than ListenOverflows +%d", extra, deferDrops, overflows)
			}
		})
	}
}

// settled waits for a moment when neither the namespace's counters nor the
// events mine accepts move, and returns both.
func settled(t *testing.T, ns *sandbox.Netns, events *collector, mine func(*Event) bool) ([]Event, map[string]uint64) {
	t.Helper()
	for try := 0; try < 50; try++ {
		n1, err := ns.Netstat()
		if err != nil {
			t.Fatal(err)
		}
		e1 := len(events.matching(mine))
		time.Sleep(20 * testFlush) // quiet is what is waited for: nothing moves in this span
		n2, err := ns.Netstat()
		if err != nil {
			t.Fatal(err)
		}
		if got := events.matching(mine); len(got) == e1 && maps.Equal(n1, n2) {
			return got, n2
		}
	}
	t.Fatal("no quiet moment to read the counters in")
	return nil, nil
}

// TestNoSocketIsNotMatched: a packet the kernel found no socket for is not
// attributed to a listener even when the table has one for its address (a
// stale entry: here an IPv4 listener's inode under ::1, and IPv6 packets to
// ::1 on its port); also on kernels that give no reason (NO_SOCKET) for it.
func TestNoSocketIsNotMatched(t *testing.T) {
	names := loadNames(t)
	noSocket := names.expect(t, "NO_SOCKET")
	p := openProbe(t, Options{MatchListeners: true})
	ns := sandbox.NewForTest(t)
	if !ns.HasIPv6() {
		t.Skip("no IPv6 in this kernel")
	}
	_, a, ino := listenIn(t, ns, "127.0.0.1:0", 16)
	dst := netip.AddrPortFrom(netip.IPv6Loopback(), a.Port())
	if err := p.SetListeners(map[ListenerAddr]uint64{{Netns: ns.Inode(), Addr: dst}: ino}); err != nil {
		t.Fatal(err)
	}
	events := collect(t, p)
	if err := ns.ConnectRefused(dst, 3); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.waitFor(t, 3, func(e *Event) bool { return e.NetnsInode == ns.Inode() && e.Dst == dst }) {
		if !noSocket.matches(&e) || e.SocketInode != 0 {
			t.Errorf("reason %s, socket inode %d: want %s and no socket", names.got(&e), e.SocketInode, noSocket.name)
		}
	}
}

// TestKernelStack: with KernelStack, each event carries the stack that
// dropped the packet; a SYN to a closed port was dropped under tcp_v4_rcv.
func TestKernelStack(t *testing.T) {
	names := loadNames(t)
	p := openProbe(t, Options{KernelStack: true})
	ns := sandbox.NewForTest(t)
	events := collect(t, p)
	dst := netip.MustParseAddrPort("127.0.0.1:9")
	if err := ns.ConnectRefused(dst, 3); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.waitFor(t, 3, func(e *Event) bool { return e.NetnsInode == ns.Inode() && e.Dst == dst }) {
		var frames []string
		for _, ip := range e.KernelStack() {
			frames = append(frames, names.syms.Function(ip))
		}
		if !slices.Contains(frames, "tcp_v4_rcv") {
			t.Errorf("stack %v does not pass through tcp_v4_rcv", frames)
		}
	}
}

// TestSetListenersTable: the kernel's table holds what SetListeners was
// last given, under the kernel's key: an IPv4 address written as IPv4 or
// as IPv4-mapped IPv6 is one entry (the lower inode), and entries no longer
// given are deleted.
func TestSetListenersTable(t *testing.T) {
	p := openProbe(t, Options{MatchListeners: true})
	la := func(addr string) ListenerAddr { return ListenerAddr{Netns: 7, Addr: netip.MustParseAddrPort(addr)} }
	read := func() map[tcpdropListenerKey]uint64 {
		got := map[tcpdropListenerKey]uint64{}
		var key tcpdropListenerKey
		var ino uint64
		it := p.objs.TcpdropListeners.Iterate()
		for it.Next(&key, &ino) {
			got[key] = ino
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := map[ListenerAddr]uint64{
		la("127.0.0.1:80"): 11, la("[::ffff:127.0.0.1]:80"): 10, la("[::]:80"): 12, la("0.0.0.0:443"): 13,
	}
	if err := p.SetListeners(first); err != nil {
		t.Fatal(err)
	}
	want := map[tcpdropListenerKey]uint64{
		{Netns: 7, Port: 80, Family: 4, Addr: [16]uint8{127, 0, 0, 1}}: 10,
		{Netns: 7, Port: 80, Family: 6}:                                12,
		{Netns: 7, Port: 443, Family: 4}:                               13,
	}
	if got := read(); !maps.Equal(got, want) {
		t.Fatalf("table %v, want %v", got, want)
	}
	if err := p.SetListeners(map[ListenerAddr]uint64{la("[::]:80"): 14}); err != nil {
		t.Fatal(err)
	}
	want = map[tcpdropListenerKey]uint64{{Netns: 7, Port: 80, Family: 6}: 14}
	if got := read(); !maps.Equal(got, want) {
		t.Fatalf("after a smaller table: %v, want %v", got, want)
	}
}
