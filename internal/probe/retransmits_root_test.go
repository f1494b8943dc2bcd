// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"maps"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// How many connects of each kind TestRetransmitsEqualRetransSegs makes.
const (
	synLost    = 3 // SYNs dropped as they arrive: each sent again
	synFailed  = 2 // SYNs dropped as they leave: sent again, and failing
	synAckLost = 3 // handshake ACKs dropped: the listener sends its SYN-ACK again
)

// retransmitted is what a test expects of the retransmissions it made:
// their owners by reason, and the data scenario's addresses.
type retransmitted struct {
	dataOwner      uint64
	server, client netip.AddrPort
	synOwners      map[uint64]bool
	synAckOwner    uint64
	synAckServer   netip.AddrPort
}

// retransmitsFail tells whether the running kernel traces retransmissions
// whose transmission failed (6.17+: tcp_retransmit_skb passes err), which
// Tcp:RetransSegs counts; older kernels trace only those that left.
func retransmitsFail(t *testing.T) bool {
	t.Helper()
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	var s *btf.Struct
	if err := spec.TypeByName("trace_event_raw_tcp_retransmit_skb", &s); err != nil {
		return false // before 6.17 the event is of the class tcp_event_sk_skb
	}
	for _, m := range s.Members {
		if m.Name == "err" {
			return true
		}
	}
	return false
}

// retransmitNetns sets ns up for retransmissions that are quick and
// counted in segments: lo's MTU of an Ethernet, so that a write of a few
// segments is one GSO segment of several (on lo's 64 KiB MTU every segment
// is one), and one SYN and SYN-ACK retransmission before giving up.
func retransmitNetns(t *testing.T, ns *sandbox.Netns) {
	t.Helper()
	err := ns.Do(func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.LinkSetMTU(lo, 1500)
	})
	if err == nil {
		err = ns.OneHandshakeRetry()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// tcpInfo is fd's TCP_INFO.
func tcpInfo(t *testing.T, fd int) *unix.TCPInfo {
	t.Helper()
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// waitUntil polls cond until it holds, or fails the test after 10s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s, still waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// abort closes fd with a reset (SO_LINGER 0): nothing of it is sent again.
func abort(fd int) {
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	_ = unix.Close(fd)
}

// dataConn is a connection to a listener at addr: its client's and its
// accepted socket's descriptors.
type dataConn struct {
	client, server int
	addr           netip.AddrPort
}

// connectData connects to the listener lfd at addr and accepts the
// connection, which the test closes at its end. Made before a test reads
// its counters: a handshake that lost a packet (a busy host's backlog
// full) is sent again then, not counted as the test's data.
func connectData(t *testing.T, ns *sandbox.Netns, lfd int, addr netip.AddrPort) dataConn {
	t.Helper()
	c := dataConn{client: -1, server: -1, addr: addr}
	err := ns.Do(func() error {
		fd, sa, err := tcpSocketFor(addr)
		if err != nil {
			return err
		}
		c.client = fd
		if err := unix.Connect(c.client, sa); err != nil {
			return err
		}
		c.server, _, err = unix.Accept(lfd)
		return err
	})
	t.Cleanup(func() {
		for _, fd := range []int{c.client, c.server} {
			if fd >= 0 {
				abort(fd)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dataRetransmits drops what the accepted socket of c sends until it has
// sent its data again twice (a tail loss probe resending the last segment,
// then an RTO the first), then lets it through: the next RTO's segment is
// acknowledged and the rest follow, several segments at a time, as the
// window opens. It returns when all is acknowledged, with the accepted
// socket's inode and the connection's ends in exp.
func dataRetransmits(t *testing.T, ns *sandbox.Netns, c dataConn, exp *retransmitted) {
	t.Helper()
	cfd, sfd := c.client, c.server
	client, err := sandbox.LocalAddr(cfd)
	if err != nil {
		t.Fatal(err)
	}
	exp.dataOwner, exp.server, exp.client = socketInode(t, sfd), c.addr, client
	rule, err := ns.DropTCPPort(client.Port())
	if err != nil {
		t.Fatal(err)
	}
	// Eight segments: within the first window, so a loss probe has no new
	// data to send and resends the last.
	data := make([]byte, 8*1448)
	if _, err := unix.Write(sfd, data); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "two retransmissions", func() bool { return tcpInfo(t, sfd).Total_retrans >= 2 })
	if err := rule.Delete(); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptTimeval(cfd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 10}); err != nil {
		t.Fatal(err)
	}
	for got := 0; got < len(data); {
		n, err := unix.Read(cfd, data)
		if err != nil || n == 0 {
			t.Fatalf("reading the retransmitted data after %d bytes: %d, %v", got, n, err)
		}
		got += n
	}
	waitUntil(t, "the data acknowledged", func() bool { return tcpInfo(t, sfd).Unacked == 0 })
}

// connects starts n non-blocking connects from ns to addr that send their
// SYN once more at most (sandbox.StartConnects) and adds their sockets'
// inodes to owners. The caller closes them.
func connects(t *testing.T, ns *sandbox.Netns, addr netip.AddrPort, n int, owners map[uint64]bool) []int {
	t.Helper()
	fds, err := ns.StartConnects(addr, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		owners[socketInode(t, fd)] = true
	}
	return fds
}

// handshakeRetransmits makes SYNs and SYN-ACKs be sent again, at once (each
// after the initial RTO of 1s): connects to a port whose SYNs are dropped
// as they arrive, to one whose SYNs are dropped as they leave (the
// retransmission is counted, and fails), and to a listener whose
// handshake ACKs are dropped (the connect succeeds; the listener's request
// socket sends its SYN-ACK again). It returns once every one was sent
// again, with nothing more to come: the connects are closed, those that
// succeeded with a reset that ends their request sockets too.
func handshakeRetransmits(t *testing.T, ns *sandbox.Netns, addr netip.AddrPort, lost, failed uint16, exp *retransmitted) {
	t.Helper()
	lfd, err := ns.Listen(netip.AddrPortFrom(addr.Addr(), 0), 64)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(lfd)
	if exp.synAckServer, err = sandbox.LocalAddr(lfd); err != nil {
		t.Fatal(err)
	}
	exp.synAckOwner = socketInode(t, lfd)
	if _, err := ns.DropTCPPort(lost); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.DropTCPPortOutput(failed); err != nil {
		t.Fatal(err)
	}
	const synMask = uint8(FlagSYN | FlagACK | FlagRST | FlagFIN)
	if _, err := ns.DropTCPPortFlags(exp.synAckServer.Port(), synMask, uint8(FlagACK)); err != nil {
		t.Fatal(err)
	}
	exp.synOwners = map[uint64]bool{}
	syns := append(connects(t, ns, netip.AddrPortFrom(addr.Addr(), lost), synLost, exp.synOwners),
		connects(t, ns, netip.AddrPortFrom(addr.Addr(), failed), synFailed, exp.synOwners)...)
	established := connects(t, ns, exp.synAckServer, synAckLost, map[uint64]bool{})
	defer func() {
		for _, fd := range append(syns, established...) {
			abort(fd)
		}
	}()
	before := netstat(t, ns)["TcpExt:TCPSynRetrans"]
	waitUntil(t, "every SYN and SYN-ACK sent again", func() bool {
		for _, fd := range syns {
			if tcpInfo(t, fd).Total_retrans < 1 {
				return false
			}
		}
		return netstat(t, ns)["TcpExt:TCPSynRetrans"]-before >= synLost+synFailed+synAckLost
	})
	for _, fd := range established {
		if state := tcpInfo(t, fd).State; state != unix.BPF_TCP_ESTABLISHED {
			t.Errorf("a connect whose handshake ACK is dropped: state %d, want established", state)
		}
	}
}

// TestRetransmitsEqualRetransSegs: the segments a namespace sends again,
// data (and its tail loss probe), SYNs and SYN-ACKs, are counted exactly
// as its Tcp:RetransSegs grows, and the SYNs and SYN-ACKs as its
// TcpExt:TCPSynRetrans grows, each an event with its owner, IPv4 and IPv6.
// A data segment sent again with others is counted as the segments it is
// (lo's MTU made small, so that there are such), where the kernel resends
// them so. SYNs that a firewall drops as they leave are
// counted by the kernel though they did not leave: kernels since 6.17
// trace them, older ones do not (expected then: RetransSegs less
// TcpExt:TCPRetransFail). A port filter tells this namespace's
// retransmissions from the host's in the counts.
func TestRetransmitsEqualRetransSegs(t *testing.T) {
	forEachLoopback(t, func(t *testing.T, ns *sandbox.Netns, addr netip.Addr) {
		retransmitNetns(t, ns)
		lfd, server, _ := listenIn(t, ns, netip.AddrPortFrom(addr, 0).String(), 64)
		lost, failed := unusedPort(t, ns, addr), unusedPort(t, ns, addr)
		for failed == lost {
			failed = unusedPort(t, ns, addr)
		}
		conn := connectData(t, ns, lfd, server) // before the probe, and its handshake
		p := openProbe(t, Options{Retransmits: true})
		events := collect(t, p)

		var exp retransmitted
		before := netstat(t, ns)
		dataRetransmits(t, ns, conn, &exp)
		handshakeRetransmits(t, ns, netip.AddrPortFrom(addr, 0), lost, failed, &exp)
		after := netstat(t, ns)
		grew := func(name string) uint64 { return after[name] - before[name] }
		segs, synRetrans, probes, failures := grew("Tcp:RetransSegs"), grew("TcpExt:TCPSynRetrans"),
			grew("TcpExt:TCPLossProbes"), grew("TcpExt:TCPRetransFail")
		t.Logf("Tcp:RetransSegs grew %d, TcpExt:TCPSynRetrans %d, TCPLossProbes %d, TCPRetransFail %d",
			segs, synRetrans, probes, failures)
		if failures != synFailed {
			t.Fatalf("TcpExt:TCPRetransFail grew %d, want %d (the SYNs dropped as they leave)", failures, synFailed)
		}
		if !retransmitsFail(t) {
			segs, synRetrans = segs-failures, synRetrans-failures
		}

		mine := func(e *Event) bool { return e.Kind == KindRetransmit && e.NetnsInode == ns.Inode() }
		handshakes := func(e *Event) bool {
			r := RetransmitReason(e.Reason)
			return mine(e) && (r == RetransmitSYN || r == RetransmitSYNACK)
		}
		events.atLeast(int(synRetrans), handshakes)
		time.Sleep(20 * testFlush) // nothing more may arrive: extra events would show up here
		byReason := map[RetransmitReason]int{}
		inEvents := map[RetransmitReason]uint64{} // segments
		for _, e := range events.matching(mine) {
			r := RetransmitReason(e.Reason)
			byReason[r]++
			inEvents[r] += uint64(e.Packets)
			checkRetransmitEvent(t, &e, r, &exp, lost, failed)
		}
		t.Logf("events: %v", byReason)
		if got := byReason[RetransmitSYN] + byReason[RetransmitSYNACK]; uint64(got) != synRetrans {
			t.Errorf("%d SYN and SYN-ACK events, want %d (TcpExt:TCPSynRetrans)", got, synRetrans)
		}
		if byReason[RetransmitSYNACK] < synAckLost || byReason[RetransmitData] == 0 {
			t.Errorf("events by reason %v: want at least %d SYN_ACK and a DATA", byReason, synAckLost)
		}
		if uint64(byReason[RetransmitLossProbe]) != probes {
			t.Errorf("%d LOSS_PROBE events, want %d (TcpExt:TCPLossProbes)", byReason[RetransmitLossProbe], probes)
		}

		counted := retransmitCounts(t, p, &exp)
		t.Logf("counted (segments) %v", counted)
		var total uint64
		for _, n := range counted {
			total += n
		}
		if total != segs || counted[RetransmitSYN]+counted[RetransmitSYNACK] != synRetrans ||
			counted[RetransmitLossProbe] != probes {
			t.Errorf("counted %d segments %v; want %d (Tcp:RetransSegs), SYN and SYN_ACK %d (TcpExt:TCPSynRetrans), LOSS_PROBE %d (TcpExt:TCPLossProbes)",
				total, counted, segs, synRetrans, probes)
		}
		// No record budget (LogRecordsPerKey 0): each event stands for
		// all its segments.
		if !maps.Equal(inEvents, counted) {
			t.Errorf("segments in events %v, counted %v", inEvents, counted)
		}
		// Whether the kernel resends lost segments several at a time
		// after an RTO is its own: 6.12, 6.18 and 7.3 do here, 5.10 and
		// 6.1 resent them one by one (IPv4; 5.10 did for IPv6). The
		// counts equal RetransSegs either way.
		if counted[RetransmitData] == uint64(byReason[RetransmitData]) {
			t.Logf("%d DATA segments in as many events: this kernel resent none of them together", counted[RetransmitData])
		}
	})
}

// checkRetransmitEvent checks an event's owner, state, addresses and flags
// against what made it.
func checkRetransmitEvent(t *testing.T, e *Event, r RetransmitReason, exp *retransmitted, lost, failed uint16) {
	t.Helper()
	if !e.HasReason || e.Location != 0 || e.Ifindex != 0 {
		t.Errorf("%v retransmission: HasReason %v, Location %#x, Ifindex %d; want true, 0, 0", r, e.HasReason, e.Location, e.Ifindex)
	}
	switch r {
	case RetransmitData, RetransmitLossProbe:
		if e.SocketInode != exp.dataOwner || e.State.String() != "established" || e.Src != exp.server ||
			e.Dst != exp.client || e.TCPFlags&FlagACK == 0 || e.TCPFlags&(FlagSYN|FlagRST|FlagFIN) != 0 {
			t.Errorf("%v retransmission: owner %d (%v), %v -> %v, flags %v; want %d (established), %v -> %v, ACK",
				r, e.SocketInode, e.State, e.Src, e.Dst, e.TCPFlags, exp.dataOwner, exp.server, exp.client)
		}
	case RetransmitSYN:
		if !exp.synOwners[e.SocketInode] || e.State.String() != "syn_sent" || e.TCPFlags != FlagSYN ||
			(e.Dst.Port() != lost && e.Dst.Port() != failed) || e.Dst.Addr() != exp.server.Addr() {
			t.Errorf("SYN retransmission: owner %d (%v), %v -> %v, flags %v; want one of %v (syn_sent), to port %d or %d, SYN",
				e.SocketInode, e.State, e.Src, e.Dst, e.TCPFlags, exp.synOwners, lost, failed)
		}
	case RetransmitSYNACK:
		if e.SocketInode != exp.synAckOwner || e.State.String() != "syn_received" || e.Src != exp.synAckServer ||
			e.TCPFlags != FlagSYN|FlagACK {
			t.Errorf("SYN_ACK retransmission: owner %d (%v), %v -> %v, flags %v; want the listener %d (syn_received), from %v, SYN|ACK",
				e.SocketInode, e.State, e.Src, e.Dst, e.TCPFlags, exp.synAckOwner, exp.synAckServer)
		}
	default:
		t.Errorf("retransmission of unknown reason %d", e.Reason)
	}
}

// retransmitCounts takes the counts and returns the segments counted of
// this test's sockets, by reason: the host's retransmissions are of other
// sockets.
func retransmitCounts(t *testing.T, p *Probe, exp *retransmitted) map[RetransmitReason]uint64 {
	t.Helper()
	c, err := p.TakeCounts()
	if err != nil {
		t.Fatal(err)
	}
	if c.Lost != 0 || c.Shed != 0 || c.Uncounted != 0 {
		t.Errorf("losses: lost %d, shed %d, uncounted %d", c.Lost, c.Shed, c.Uncounted)
	}
	if c.Missed != 0 {
		t.Logf("the kernel did not run the programs %d times (a program's run in progress on that CPU)", c.Missed)
	}
	out := map[RetransmitReason]uint64{}
	for _, k := range c.ByKey {
		if k.Kind != KindRetransmit {
			continue
		}
		r := RetransmitReason(k.Reason)
		switch {
		case k.SocketInode == exp.dataOwner && (r == RetransmitData || r == RetransmitLossProbe),
			exp.synOwners[k.SocketInode] && r == RetransmitSYN,
			k.SocketInode == exp.synAckOwner && r == RetransmitSYNACK:
			out[r] += k.Packets
		}
	}
	return out
}

// TestRetransmitEventsAndRepeatsAddUpInSegments: with a record budget of
// one segment per key, CPU and interval, a connection's retransmitted
// data (segments resent several at a time, where the kernel does so) is
// one event's segment and repeats: the segments the events stand for
// (Event.Packets) and the counts' repeats add up to the segments counted,
// which equal Tcp:RetransSegs.
func TestRetransmitEventsAndRepeatsAddUpInSegments(t *testing.T) {
	forEachLoopback(t, func(t *testing.T, ns *sandbox.Netns, addr netip.Addr) {
		retransmitNetns(t, ns)
		lfd, server, _ := listenIn(t, ns, netip.AddrPortFrom(addr, 0).String(), 64)
		conn := connectData(t, ns, lfd, server) // before the probe, and its handshake
		p := openProbe(t, Options{Retransmits: true, LogRecordsPerKey: 1})
		events := collect(t, p)

		var exp retransmitted
		before := netstat(t, ns)["Tcp:RetransSegs"]
		dataRetransmits(t, ns, conn, &exp)
		segs := netstat(t, ns)["Tcp:RetransSegs"] - before

		c, err := p.TakeCounts()
		if err != nil {
			t.Fatal(err)
		}
		var counted, repeats uint64
		for _, k := range c.ByKey {
			if k.Kind == KindRetransmit && k.SocketInode == exp.dataOwner {
				counted += k.Packets
				repeats += k.Repeats
			}
		}
		mine := func(e *Event) bool { return e.Kind == KindRetransmit && e.SocketInode == exp.dataOwner }
		time.Sleep(20 * testFlush) // the last events read
		var inEvents uint64
		mineEvents := events.matching(mine)
		for _, e := range mineEvents {
			inEvents += uint64(e.Packets)
		}
		t.Logf("Tcp:RetransSegs +%d: counted %d = %d in %d events + %d repeats (lost %d, shed %d, uncounted %d, missed %d)",
			segs, counted, inEvents, len(mineEvents), repeats, c.Lost, c.Shed, c.Uncounted, c.Missed)
		if counted != segs {
			t.Errorf("counted %d segments, want %d (Tcp:RetransSegs)", counted, segs)
		}
		if inEvents+repeats+c.Lost+c.Shed != counted {
			t.Errorf("%d segments in events + %d repeats + lost %d + shed %d; want the %d counted",
				inEvents, repeats, c.Lost, c.Shed, counted)
		}
		if repeats == 0 {
			t.Errorf("no repeats: %d segments in %d events, want more than the budget of 1 per key and CPU", inEvents, len(mineEvents))
		}
	})
}
