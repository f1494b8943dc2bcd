// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

const closedPort = 9

// TestClosedPort: N connects to a closed port are N drops with reason
// NO_SOCKET (none before 5.17) in tcp_v4_rcv / tcp_v6_rcv, and the exact
// counts agree by reason and location; also with IPv6 extension headers
// between the IPv6 and the TCP header.
func TestClosedPort(t *testing.T) {
	for _, tc := range []struct {
		name       string
		addr       string
		function   string
		extHeaders bool
	}{
		{"IPv4", "127.0.0.1", "tcp_v4_rcv", false},
		{"IPv6", "::1", "tcp_v6_rcv", false},
		{"IPv6 extension headers", "::1", "tcp_v6_rcv", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 25
			p := openProbe(t, Options{})
			names := loadNames(t)
			ns := sandbox.NewForTest(t)
			events := collect(t, p)
			dst := netip.AddrPortFrom(netip.MustParseAddr(tc.addr), closedPort)

			connect := ns.ConnectRefused
			if tc.extHeaders {
				connect = ns.ConnectRefusedExtHeaders
			}
			if err := connect(dst, n); err != nil {
				t.Fatal(err)
			}
			got := events.waitFor(t, n, func(e *Event) bool { return e.NetnsInode == ns.Inode() })

			noSocket := names.expect(t, "NO_SOCKET")
			pid := uint32(os.Getpid())
			for _, e := range got {
				if !noSocket.matches(&e) {
					t.Errorf("reason %s (%d), want %s", names.got(&e), e.Reason, noSocket.name)
				}
				if fn := names.syms.Function(e.Location); fn != tc.function {
					t.Errorf("function %s, want %s", fn, tc.function)
				}
				if e.Dst != dst || e.Src.Addr() != dst.Addr() || e.Src.Port() == 0 {
					t.Errorf("packet %v -> %v, want from %v to %v", e.Src, e.Dst, dst.Addr(), dst)
				}
				if e.TCPFlags != FlagSYN {
					t.Errorf("flags %s, want SYN", e.TCPFlags)
				}
				if (e.PID != pid && !softirqThread(e.PID)) || e.IfnameString() != "lo" {
					t.Errorf("pid %d on %q, want %d (or a ksoftirqd) on lo", e.PID, e.IfnameString(), pid)
				}
				if time.Since(e.Time) > time.Minute || time.Until(e.Time) > time.Second {
					t.Errorf("event time %v is not now", e.Time)
				}
			}
			assertCountsMatch(t, p, events)
		})
	}
}

// softirqThread tells whether pid is one of the kernel's ksoftirqd threads.
// A loopback packet is received in the sender's own softirq, so its drop
// names the sender, unless the kernel deferred that softirq to ksoftirqd,
// as it does when softirqs overrun their time budget: seen in an emulated
// arm64 guest on a loaded host (pid 20, a kernel thread, instead of the
// test's).
func softirqThread(pid uint32) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err == nil && strings.HasPrefix(string(comm), "ksoftirqd/")
}

// assertCountsMatch detaches the program and checks that, with nothing
// lost, the in-kernel counts equal the events delivered, per reason and
// location: all of them, the test's and any other drop on the machine (the
// counts keep no process to tell them apart).
func assertCountsMatch(t *testing.T, p *Probe, events *collector) {
	t.Helper()
	if err := p.Detach(); err != nil {
		t.Fatal(err)
	}
	counts, err := p.TakeCounts()
	if err != nil {
		t.Fatal(err)
	}
	if counts.Lost != 0 || counts.Uncounted != 0 {
		t.Fatalf("lost %d, uncounted %d: want none", counts.Lost, counts.Uncounted)
	}
	all := func(*Event) bool { return true }
	events.atLeast(int(totalPackets(counts)), all)
	type key struct {
		reason   uint32
		location uint64
	}
	delivered := map[key]uint64{}
	for _, e := range events.matching(all) {
		delivered[key{e.Reason, e.Location}]++
	}
	counted := map[key]uint64{}
	for _, c := range counts.ByKey {
		counted[key{c.Reason, c.Location}] += c.Packets
	}
	if fmt.Sprint(counted) != fmt.Sprint(delivered) {
		t.Fatalf("in-kernel counts %v, events delivered %v", counted, delivered)
	}
}

// TestNetfilterDrop: the events with reason NETFILTER_DROP (none before
// 5.17) equal the nft rule's own counter, over IPv4 and IPv6, all freed in
// one netfilter function (nf_hook_slow on 5.10, nft_do_chain on 6.x: learnt
// here, not assumed), not in TCP's.
func TestNetfilterDrop(t *testing.T) {
	const port = 8080
	p := openProbe(t, Options{})
	names := loadNames(t)
	ns := sandbox.NewForTest(t)
	events := collect(t, p)
	rule, err := ns.DropTCPPort(port)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"127.0.0.1", "::1"} {
		dst := netip.AddrPortFrom(netip.MustParseAddr(addr), port)
		if err := ns.ConnectTimeout(dst, 5, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	dropped, err := rule.Packets()
	if err != nil {
		t.Fatal(err)
	}
	if dropped < 10 {
		t.Fatalf("the nft rule counted %d packets, want at least the 10 SYNs sent", dropped)
	}
	nfDrop := names.expect(t, "NETFILTER_DROP")
	got := events.waitFor(t, int(dropped), func(e *Event) bool {
		return e.NetnsInode == ns.Inode() && e.Dst.Port() == port
	})
	v4 := 0
	where := names.syms.Function(got[0].Location)
	for _, e := range got {
		if !nfDrop.matches(&e) {
			t.Errorf("reason %s, want %s", names.got(&e), nfDrop.name)
		}
		if fn := names.syms.Function(e.Location); fn != where {
			t.Errorf("freed in %s and %s: want one netfilter function for all", where, fn)
		}
		if e.IPVersion() == 4 {
			v4++
		}
	}
	if where == "tcp_v4_rcv" || where == "tcp_v6_rcv" {
		t.Errorf("the rule's drops were freed in %s, TCP's own function", where)
	}
	t.Logf("%d drops, all in %s", len(got), where)
	if v4 == 0 || v4 == len(got) {
		t.Errorf("%d of %d events are IPv4: want both families", v4, len(got))
	}
}

// TestUDPIsNotReported: UDP to a closed port is dropped by the kernel but
// never reported. A TCP drop afterwards proves the probe was listening.
func TestUDPIsNotReported(t *testing.T) {
	const n = 10
	p := openProbe(t, Options{})
	ns := sandbox.NewForTest(t)
	events := collect(t, p)
	before, err := ns.Netstat()
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.SendUDP(netip.MustParseAddrPort("127.0.0.1:9"), n); err != nil {
		t.Fatal(err)
	}
	after, err := ns.Netstat()
	if err != nil {
		t.Fatal(err)
	}
	if d := after["Udp:NoPorts"] - before["Udp:NoPorts"]; d != n {
		t.Fatalf("the kernel counted %d UDP datagrams to no port, want %d", d, n)
	}
	if err := ns.ConnectRefused(netip.MustParseAddrPort("127.0.0.1:9"), 1); err != nil {
		t.Fatal(err)
	}
	got := events.waitFor(t, 1, func(e *Event) bool { return e.NetnsInode == ns.Inode() })
	if got[0].Dst.Port() != 9 || got[0].TCPFlags != FlagSYN {
		t.Fatalf("the one event is %v -> %v [%s], want the TCP SYN", got[0].Src, got[0].Dst, got[0].TCPFlags)
	}
}

// TestRingFullIsCounted: with a one-page ring and no reader, delivered plus
// lost equals the kernel's exact count.
func TestRingFullIsCounted(t *testing.T) {
	const n = 200
	p := openProbe(t, Options{RingBufferSize: os.Getpagesize()})
	ns := sandbox.NewForTest(t)
	if err := ns.ConnectRefused(netip.MustParseAddrPort("127.0.0.1:9"), n); err != nil {
		t.Fatal(err)
	}
	delivered, mine, counts := drainSettled(t, p, func(e *Event) bool { return e.NetnsInode == ns.Inode() })
	if counts.Lost == 0 || mine >= n {
		t.Fatalf("a one-page ring took %d of this test's %d events (lost %d): the test proves nothing", mine, n, counts.Lost)
	}
	if total := totalPackets(counts); delivered+counts.Lost != total {
		t.Fatalf("delivered %d + lost %d != counted %d", delivered, counts.Lost, total)
	}
}

// TestEventLimitSheds: above MaxLogRecordsPerSecond events are shed, counted,
// and the counts stay exact.
func TestEventLimitSheds(t *testing.T) {
	const n, limit = 60, 10
	p := openProbe(t, Options{MaxLogRecordsPerSecond: limit})
	ns := sandbox.NewForTest(t)
	if err := ns.ConnectRefused(netip.MustParseAddrPort("127.0.0.1:9"), n); err != nil {
		t.Fatal(err)
	}
	delivered, _, counts := drainSettled(t, p, func(*Event) bool { return false })
	if counts.Shed == 0 || counts.Lost != 0 {
		t.Fatalf("shed %d, lost %d: want some shed and none lost", counts.Shed, counts.Lost)
	}
	if total := totalPackets(counts); delivered+counts.Shed != total {
		t.Fatalf("delivered %d + shed %d != counted %d", delivered, counts.Shed, total)
	}
}

// packetsOfSocket is how many drops c counted for the socket with inode ino.
func packetsOfSocket(c Counts, ino uint64) uint64 {
	var n uint64
	for _, k := range c.ByKey {
		if k.SocketInode == ino {
			n += k.Packets
		}
	}
	return n
}

// add adds the counts taken after c to c: the loss counters are
// cumulative already.
func (c *Counts) add(taken Counts) {
	c.ByKey = append(c.ByKey, taken.ByKey...)
	c.Uncounted, c.Lost, c.Shed, c.Filtered, c.Repeated, c.Missed = taken.Uncounted, taken.Lost, taken.Shed, taken.Filtered, taken.Repeated, taken.Missed
}

func totalPackets(c Counts) uint64 {
	var total uint64
	for _, k := range c.ByKey {
		total += k.Packets
	}
	return total
}

// drainSettled reads every event in the ring and the counts, again until no
// drop anywhere on the machine slipped in between the two. It returns all
// events delivered and how many of them mine accepts.
func drainSettled(t *testing.T, p *Probe, mine func(*Event) bool) (delivered, mineDelivered uint64, counts Counts) {
	t.Helper()
	buf := make([]Event, 64)
	for try := 0; try < 20; try++ {
		for {
			k, err := p.ReadBatch(buf)
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 {
				break
			}
			delivered += uint64(k)
			for i := range buf[:k] {
				if mine(&buf[i]) {
					mineDelivered++
				}
			}
		}
		taken, err := p.TakeCounts()
		if err != nil {
			t.Fatal(err)
		}
		counts.add(taken)
		if try > 0 && len(taken.ByKey) == 0 {
			return delivered, mineDelivered, counts
		}
	}
	t.Fatal("drops kept coming: the counts never settled")
	return 0, 0, Counts{}
}

// TestCountOnly: no events, exact counts.
func TestCountOnly(t *testing.T) {
	p := openProbe(t, Options{CountOnly: true})
	if _, err := p.ReadBatch(make([]Event, 1)); !errors.Is(err, ErrCountOnly) {
		t.Fatalf("ReadBatch in count-only mode: %v, want ErrCountOnly", err)
	}
	ns := sandbox.NewForTest(t)
	if err := ns.ConnectRefused(netip.MustParseAddrPort("[::1]:9"), 7); err != nil {
		t.Fatal(err)
	}
	if err := p.Detach(); err != nil {
		t.Fatal(err)
	}
	counts, err := p.TakeCounts()
	if err != nil {
		t.Fatal(err)
	}
	// No events to tell this test's drops from others: those of the IPv6
	// closed-port path, where nothing else on a test machine drops.
	names := loadNames(t)
	var mine uint64
	for _, c := range counts.ByKey {
		if names.syms.Function(c.Location) == "tcp_v6_rcv" && c.SocketInode == 0 {
			mine += c.Packets
		}
	}
	if mine != 7 || counts.Lost != 0 {
		t.Fatalf("count-only counted %d drops (lost %d), want 7 (0)", mine, counts.Lost)
	}
}

// TestCloseReleasesEverything: after Close, none of the program, link or
// maps remains in the kernel, and Close can be called again.
func TestCloseReleasesEverything(t *testing.T) {
	p := openProbe(t, Options{})
	progInfo, err := p.objs.TcpdropKfree.Info()
	if err != nil {
		t.Fatal(err)
	}
	progID, ok := progInfo.ID()
	if !ok {
		t.Fatal("the kernel does not report program IDs")
	}
	linkInfo, err := p.link.Info()
	if err != nil {
		t.Fatal(err)
	}
	var mapIDs []ebpf.MapID
	for _, m := range []*ebpf.Map{p.objs.TcpdropEvents, p.objs.TcpdropCounts, p.objs.TcpdropStats} {
		info, err := m.Info()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := info.ID()
		mapIDs = append(mapIDs, id)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := p.TakeCounts(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Counts after Close: %v, want ErrClosed", err)
	}
	// The kernel frees objects after an RCU grace period: wait for it.
	gone := func(open func() (interface{ Close() error }, error)) bool {
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			obj, err := open()
			if errors.Is(err, os.ErrNotExist) {
				return true
			}
			if err == nil {
				obj.Close()
			}
			time.Sleep(20 * time.Millisecond)
		}
		return false
	}
	if !gone(func() (interface{ Close() error }, error) { return ebpf.NewProgramFromID(progID) }) {
		t.Errorf("program %d is still loaded", progID)
	}
	if !gone(func() (interface{ Close() error }, error) { return link.NewFromID(linkInfo.ID) }) {
		t.Errorf("link %d is still attached", linkInfo.ID)
	}
	for _, id := range mapIDs {
		if !gone(func() (interface{ Close() error }, error) { return ebpf.NewMapFromID(id) }) {
			t.Errorf("map %d still exists", id)
		}
	}
}

// TestReadBatchAllocatesNothing: reading real events from the ring
// allocates nothing, however many there are.
func TestReadBatchAllocatesNothing(t *testing.T) {
	p := openProbe(t, Options{})
	ns := sandbox.NewForTest(t)
	if err := ns.ConnectRefused(netip.MustParseAddrPort("127.0.0.1:9"), 500); err != nil {
		t.Fatal(err)
	}
	buf := make([]Event, 10)
	read := 0
	allocs := testing.AllocsPerRun(40, func() {
		n, err := p.ReadBatch(buf)
		if err != nil {
			t.Fatal(err)
		}
		read += n
	})
	if read < 400 {
		t.Fatalf("read %d events: the test measured too few", read)
	}
	if allocs != 0 {
		t.Fatalf("ReadBatch allocates %v times per call of %d events", allocs, len(buf))
	}
}

// TestDetachKeepsWhatWasCounted: after Detach no new drop is seen, a long
// wait for events ends at once, and every event and count made before is
// still there to read.
func TestDetachKeepsWhatWasCounted(t *testing.T) {
	p := openProbe(t, Options{FlushInterval: time.Minute})
	ns := sandbox.NewForTest(t)
	dst := netip.MustParseAddrPort("127.0.0.1:9")
	if err := ns.ConnectRefused(dst, 5); err != nil {
		t.Fatal(err)
	}
	if err := p.Detach(); err != nil {
		t.Fatal(err)
	}
	if err := ns.ConnectRefused(dst, 5); err != nil { // unseen
		t.Fatal(err)
	}
	mine, read := 0, uint64(0)
	buf := make([]Event, 64)
	start := time.Now()
	for empty := 0; empty < 2; {
		n, err := p.ReadBatch(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			empty++
		}
		read += uint64(n)
		for _, e := range buf[:n] {
			if e.NetnsInode == ns.Inode() {
				mine++
			}
		}
	}
	if waited := time.Since(start); waited > 30*time.Second {
		t.Fatalf("reading after Detach waited %v: Detach should end the wait", waited)
	}
	if mine != 5 {
		t.Fatalf("read %d of this test's events after Detach, want the 5 made before it", mine)
	}
	counts, err := p.TakeCounts()
	if err != nil {
		t.Fatal(err)
	}
	if counted := totalPackets(counts); counted != read || counts.Lost != 0 {
		t.Fatalf("counted %d drops (lost %d), read %d events: want all counted before Detach read", counted, counts.Lost, read)
	}
}
