// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// sentPlusFiltered detaches the program and returns its counts once every
// event it sent is read: then events read + lost + shed + filtered = packets
// counted, exactly, machine-wide (every drop on the machine is counted and
// either sent, lost, shed or filtered).
func sentPlusFiltered(t *testing.T, p *Probe, events *collector) Counts {
	t.Helper()
	if err := p.Detach(); err != nil {
		t.Fatal(err)
	}
	counts, err := p.TakeCounts()
	if err != nil {
		t.Fatal(err)
	}
	if counts.Uncounted != 0 {
		t.Fatalf("uncounted %d: want none", counts.Uncounted)
	}
	all := func(*Event) bool { return true }
	want := totalPackets(counts) - counts.Lost - counts.Shed - counts.Filtered
	events.atLeast(int(want), all)
	time.Sleep(10 * testFlush) // nothing more may arrive: extra events would show up here
	if got := uint64(len(events.matching(all))); got != want {
		t.Fatalf("events %d + lost %d + shed %d + filtered %d != packets %d", got, counts.Lost, counts.Shed, counts.Filtered, totalPackets(counts))
	}
	return counts
}

// packetsWithReason sums the counts of one reason value.
func packetsWithReason(c Counts, has bool, reason uint32) uint64 {
	var n uint64
	for _, k := range c.ByKey {
		if k.HasReason == has && k.Reason == reason {
			n += k.Packets
		}
	}
	return n
}

// TestExcludedReasonIsCountedNotSent: with NETFILTER_DROP excluded, SYNs an
// nft rule drops send no event while SYNs to a closed port do; every drop is
// counted, and the excluded ones are exactly the filtered ones (on a kernel
// without reasons, before 5.17, nothing is filtered: asserted as such).
func TestExcludedReasonIsCountedNotSent(t *testing.T) {
	const port, refused = 8080, 5
	names := loadNames(t)
	nfDrop := names.expect(t, "NETFILTER_DROP")
	p := openProbe(t, Options{Filter: Filter{ReasonMode: ExcludedReasons, Reasons: []uint32{nfDrop.value}}})
	ns := sandbox.NewForTest(t)
	events := collect(t, p)
	rule, err := ns.DropTCPPort(port)
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.ConnectTimeout(netip.MustParseAddrPort("127.0.0.1:8080"), 5, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := ns.ConnectRefused(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), closedPort), refused); err != nil {
		t.Fatal(err)
	}
	dropped, err := rule.Packets()
	if err != nil {
		t.Fatal(err)
	}
	mine := func(e *Event) bool { return e.NetnsInode == ns.Inode() }
	want := refused
	if !nfDrop.has {
		want += int(dropped) // no reasons: nothing to filter by
	}
	got := events.waitFor(t, want, mine)
	counts := sentPlusFiltered(t, p, events)
	nfCounted := packetsWithReason(counts, nfDrop.has, nfDrop.value)
	if !nfDrop.has {
		if counts.Filtered != 0 {
			t.Fatalf("filtered %d on a kernel without reasons: want 0", counts.Filtered)
		}
		return
	}
	for _, e := range got {
		if nfDrop.matches(&e) {
			t.Fatalf("an excluded NETFILTER_DROP was sent: %v -> %v", e.Src, e.Dst)
		}
	}
	if nfCounted < dropped {
		t.Fatalf("NETFILTER_DROP counted %d, the nft rule dropped %d", nfCounted, dropped)
	}
	if counts.Filtered != nfCounted {
		t.Fatalf("filtered %d, NETFILTER_DROP counted %d: want every excluded drop filtered, and only those", counts.Filtered, nfCounted)
	}
	t.Logf("nft rule %d, NETFILTER_DROP counted %d (machine-wide), filtered %d", dropped, nfCounted, counts.Filtered)
}

// TestFilterSelectsExactly: three kinds of drops at once - SYNs to closed
// port A, to closed port B, and to a port an nft rule drops; include_reasons
// and ports each send exactly the ones they name.
func TestFilterSelectsExactly(t *testing.T) {
	const portA, portB, nftPort, n = 9, 10, 8080, 4
	names := loadNames(t)
	nfDrop := names.expect(t, "NETFILTER_DROP")
	noSocket := names.expect(t, "NO_SOCKET")
	lo := netip.MustParseAddr("127.0.0.1")
	for _, tc := range []struct {
		name   string
		filter Filter
		want   func(e *Event) bool
		noBTF  bool // the filter selects by reason: not on a kernel without
	}{
		{"include NETFILTER_DROP", Filter{ReasonMode: OnlyReasons, Reasons: []uint32{nfDrop.value}},
			func(e *Event) bool { return e.Dst.Port() == nftPort }, true},
		{"include NO_SOCKET", Filter{ReasonMode: OnlyReasons, Reasons: []uint32{noSocket.value}},
			func(e *Event) bool { return e.Dst.Port() != nftPort }, true},
		{"ports A and nft", Filter{Ports: []uint16{portA, nftPort}},
			func(e *Event) bool { return e.Dst.Port() != portB }, false},
		{"port B, excluding NO_SOCKET", Filter{Ports: []uint16{portB}, ReasonMode: ExcludedReasons, Reasons: []uint32{noSocket.value}},
			func(*Event) bool { return false }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noBTF && !nfDrop.has {
				t.Skip("this kernel passes no drop reasons (5.17+ does): nothing to select by")
			}
			p := openProbe(t, Options{Filter: tc.filter})
			ns := sandbox.NewForTest(t)
			events := collect(t, p)
			rule, err := ns.DropTCPPort(nftPort)
			if err != nil {
				t.Fatal(err)
			}
			for _, port := range []uint16{portA, portB} {
				if err := ns.ConnectRefused(netip.AddrPortFrom(lo, port), n); err != nil {
					t.Fatal(err)
				}
			}
			if err := ns.ConnectTimeout(netip.AddrPortFrom(lo, nftPort), n, 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			dropped, err := rule.Packets()
			if err != nil {
				t.Fatal(err)
			}
			// Each kind's drops in the namespace: its SYNs.
			perPort := map[uint16]int{portA: n, portB: n, nftPort: int(dropped)}
			want := 0
			for port, k := range perPort {
				if tc.want(&Event{Dst: netip.AddrPortFrom(lo, port)}) {
					want += k
				}
			}
			got := events.waitFor(t, want, func(e *Event) bool { return e.NetnsInode == ns.Inode() })
			for _, e := range got {
				if !tc.want(&e) {
					t.Errorf("sent a drop the filter excludes: %v -> %v, reason %s", e.Src, e.Dst, names.got(&e))
				}
			}
			sentPlusFiltered(t, p, events)
		})
	}
}

// TestConnectionState: the data of an established connection, dropped by an
// nft output rule while it belongs to its socket, is sent with the state
// established and the socket's inode, as many as the rule dropped; a SYN to
// a closed port, which has no socket, with none.
func TestConnectionState(t *testing.T) {
	p := openProbe(t, Options{})
	ns := sandbox.NewForTest(t)
	events := collect(t, p)
	var ln net.Listener
	var conn net.Conn
	if err := ns.Do(func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:0"); return }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := ns.Do(func() (err error) { conn, err = net.Dial("tcp", ln.Addr().String()); return }); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	client := netip.MustParseAddrPort(conn.LocalAddr().String())
	dst := netip.MustParseAddrPort(ln.Addr().String())

	rule, err := ns.DropTCPPortOutput(dst.Port())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte("dropped on its way out, then retransmitted")); err != nil {
		t.Fatal(err)
	}
	fromClient := func(e *Event) bool { return e.NetnsInode == ns.Inode() && e.Src == client }
	events.atLeast(2, fromClient) // the data and a retransmission
	if err := ns.ConnectRefused(netip.AddrPortFrom(dst.Addr(), closedPort), 1); err != nil {
		t.Fatal(err)
	}
	refused := events.waitFor(t, 1, func(e *Event) bool { return e.NetnsInode == ns.Inode() && e.Dst.Port() == closedPort })
	if refused[0].State != 0 || refused[0].State.String() != "" {
		t.Errorf("a SYN to a closed port has state %d (%q): want none", refused[0].State, refused[0].State)
	}

	before, err := rule.Packets()
	if err != nil {
		t.Fatal(err)
	}
	counts := sentPlusFiltered(t, p, events)
	after, err := rule.Packets()
	if err != nil {
		t.Fatal(err)
	}
	got := events.matching(fromClient)
	if uint64(len(got)) < before || uint64(len(got)) > after {
		t.Fatalf("%d events of the client's data, the nft rule dropped %d..%d", len(got), before, after)
	}
	ino := got[0].SocketInode
	for _, e := range got {
		if e.State.String() != "established" || e.SocketInode == 0 || e.SocketInode != ino {
			t.Errorf("state %d (%q), socket %d: want established, the client's socket %d", e.State, e.State, e.SocketInode, ino)
		}
	}
	var counted uint64
	for _, c := range counts.ByKey {
		if c.SocketInode == ino {
			counted += c.Packets
			if c.State.String() != "established" {
				t.Errorf("counted in state %q: want established", c.State)
			}
		}
	}
	if counted != uint64(len(got)) {
		t.Errorf("counted %d drops of the client's socket, sent %d", counted, len(got))
	}
}
