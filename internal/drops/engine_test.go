// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/owners"
	"github.com/tcpdrop/tcpdrop/internal/probe"

	"github.com/tcpdrop/tcpdrop/harness/fixture"
)

// cannedKernel hands out the batches of events it is given, then waits
// like the probe: a flush interval, or, once detached, not at all.
type cannedKernel struct {
	batches  chan []probe.Event
	taken    atomic.Int64 // batches handed out
	emptied  atomic.Int64 // when the last batch given was handed out, in Unix nanoseconds
	countsMu sync.Mutex
	counts   probe.Counts
	detached atomic.Bool
	closed   chan struct{}
	once     sync.Once
}

func newCannedKernel() *cannedKernel {
	return &cannedKernel{batches: make(chan []probe.Event, 1024), closed: make(chan struct{})}
}

// ReadBatch hands out a waiting batch first, as a ring with records in it
// does: a select over a batch and an expired timer picks either, and two
// empty reads while detached end the engine's reading with a batch left.
func (k *cannedKernel) ReadBatch(evs []probe.Event) (int, error) {
	select {
	case b := <-k.batches:
		return k.hand(evs, b), nil
	default:
	}
	if k.detached.Load() {
		return 0, nil
	}
	select {
	case b := <-k.batches:
		return k.hand(evs, b), nil
	case <-k.closed:
		return 0, probe.ErrClosed
	case <-time.After(10 * time.Millisecond):
		return 0, nil
	}
}

func (k *cannedKernel) hand(evs, b []probe.Event) int {
	k.taken.Add(1)
	if len(k.batches) == 0 {
		k.emptied.Store(time.Now().UnixNano())
	}
	return copy(evs, b)
}

// TakeCounts hands the canned counts over once, as the kernel empties its
// map; the loss counters stay, being cumulative.
func (k *cannedKernel) TakeCounts() (probe.Counts, error) {
	k.countsMu.Lock()
	defer k.countsMu.Unlock()
	c := k.counts
	k.counts.ByKey = nil
	return c, nil
}

func (k *cannedKernel) SetListeners(map[probe.ListenerAddr]uint64) error { return nil }
func (k *cannedKernel) ListenersChangedIn() (map[uint32]bool, error)     { return nil, nil }
func (k *cannedKernel) Detach() error                                    { k.detached.Store(true); return nil }
func (k *cannedKernel) Close() error                                     { k.once.Do(func() { close(k.closed) }); return nil }

// Addresses inside functions of the kallsyms fixture.
const (
	inTCPv4Rcv = 0xffffffff81b2f9c0 + 0x63
	inBpfTrace = 0xffffffff81300100 + 0xfc // tracepoint dispatch: left out of stacks
	inSkbDrop  = 0xffffffff81a3c500 + 0x90
)

// eventsOf makes n drops of sockets first, first+1, ...
func eventsOf(n int, first uint64) []probe.Event {
	evs := make([]probe.Event, n)
	for i := range evs {
		evs[i] = probe.Event{
			Time: time.Unix(1, 0), PID: 1234, Comm: [16]byte{'n', 'c'}, Reason: 3, HasReason: true, Location: inTCPv4Rcv,
			Src: netip.MustParseAddrPort("127.0.0.1:40000"), Dst: netip.MustParseAddrPort("127.0.0.1:9"),
			SocketInode: first + uint64(i), TCPFlags: probe.FlagSYN,
		}
	}
	return evs
}

// tableOwners knows the owners of a table of sockets.
type tableOwners map[uint64]owners.Process

func (t tableOwners) Lookup(ino uint64, _ time.Time) (owners.Process, bool) {
	o, ok := t[ino]
	return o, ok
}
func (t tableOwners) Cached(ino uint64) (owners.Process, bool) { o, ok := t[ino]; return o, ok }

// dropSink keeps what Outputs.Drops gets, copied.
type dropSink struct {
	mu    sync.Mutex
	drops []Drop
	n     atomic.Int64
}

func (s *dropSink) take(batch []Drop) {
	s.mu.Lock()
	for _, d := range batch {
		ev := *d.Event
		d.Event = &ev
		d.Stack = append([]string(nil), d.Stack...)
		s.drops = append(s.drops, d)
	}
	s.mu.Unlock()
	s.n.Add(int64(len(batch)))
}

func (s *dropSink) all() []Drop {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Drop(nil), s.drops...)
}

// TestEngineAlone: the engine without a collector or a kernel: canned
// events come out as drops with their owners and names, the counts with
// them, and Stop hands out the last counts.
func TestEngineAlone(t *testing.T) {
	k := newCannedKernel()
	stacked := eventsOf(1, 0)[0]
	stacked.Stack = [probe.MaxStackDepth]uint64{inBpfTrace, inSkbDrop, inTCPv4Rcv}
	stacked.StackDepth = 3
	owned := eventsOf(1, 777)[0]
	owned.HasReason = false
	k.batches <- []probe.Event{stacked, owned}
	k.counts = probe.Counts{ByKey: []probe.Count{
		{SocketInode: 777, Reason: 3, HasReason: true, Location: inTCPv4Rcv, Packets: 2},
		{SocketInode: 777, Reason: 3, HasReason: true, Location: inTCPv4Rcv + 4, Packets: 3}, // the same function: one key
		{Reason: 3, HasReason: true, Location: inTCPv4Rcv, Packets: 1},
	}, Lost: 1}
	server := owners.Process{PID: 4321, Comm: "server"}
	opts := DefaultOptions()
	e := New(Sources{Kernel: k, Names: fixture.LoadNames(t, NotAvailable), Owners: tableOwners{777: server}}, opts, zap.NewNop())
	var sink dropSink
	var last Counts
	e.Start(Outputs{Drops: sink.take, Counts: func(c Counts, _ []Listener, _ time.Time) { last = c }})
	waitUntil(t, 10*time.Second, "both drops are handed out", func() bool { return sink.n.Load() >= 2 })
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}

	got := sink.all()
	if len(got) != 2 {
		t.Fatalf("%d drops, want 2", len(got))
	}
	d := got[0]
	if d.Owner.Status != OwnerNone || d.Reason != "NO_SOCKET" || d.Function != "tcp_v4_rcv" || d.Location != "tcp_v4_rcv+0x63" || d.Comm != "nc" {
		t.Errorf("first drop: %+v", d)
	}
	if want := []string{"sk_skb_reason_drop+0x90", "tcp_v4_rcv+0x63"}; len(d.Stack) != 2 || d.Stack[0] != want[0] || d.Stack[1] != want[1] {
		t.Errorf("stack %v, want %v: the tracing frames above the drop left out", d.Stack, want)
	}
	if d := got[1]; d.Owner != (Owner{Status: OwnerProcess, Process: server}) || d.Reason != NotAvailable {
		t.Errorf("second drop: %+v", d)
	}
	want := map[CountKey]uint64{
		{Owner: Owner{Status: OwnerProcess, Process: server}, Reason: "NO_SOCKET", Function: "tcp_v4_rcv"}: 5,
		{Owner: Owner{Status: OwnerNone}, Reason: "NO_SOCKET", Function: "tcp_v4_rcv"}:                     1,
	}
	if len(last.ByKey) != len(want) || last.Lost != 1 {
		t.Fatalf("final counts %+v, want %v and 1 lost", last, want)
	}
	for _, c := range last.ByKey {
		if want[c.CountKey] != c.Packets {
			t.Errorf("count %+v, want %d", c, want[c.CountKey])
		}
	}
}

// slowOwners stands in for a /proc so slow that a lookup takes until the
// test releases it; what a lookup found is cached from then on.
type slowOwners struct {
	release chan struct{}
	lookups atomic.Int64
	first   atomic.Uint64 // the socket looked up first
	mu      sync.Mutex
	known   map[uint64]owners.Process
}

func (s *slowOwners) Lookup(ino uint64, _ time.Time) (owners.Process, bool) {
	if s.lookups.Add(1) == 1 {
		s.first.Store(ino)
	}
	<-s.release
	o := owners.Process{PID: int(ino), Comm: "late"}
	s.mu.Lock()
	s.known[ino] = o
	s.mu.Unlock()
	return o, true
}

func (s *slowOwners) Cached(ino uint64) (owners.Process, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.known[ino]
	return o, ok
}

// TestSlowOwnersDoNotHoldTheRingUp: owner lookups that do not return until
// the test lets them, while 50 batches of drops of sockets not yet known
// arrive. The ring is read to the end, and every drop handed out, while
// the lookups are still blocked: the drops go out with their owner
// unknown, none is lost. Once the lookups return, drops of those sockets
// have their owner.
func TestSlowOwnersDoNotHoldTheRingUp(t *testing.T) {
	const batches = 50
	k := newCannedKernel()
	for i := range batches {
		k.batches <- eventsOf(readBatch, uint64(1+i*readBatch))
	}
	slow := &slowOwners{release: make(chan struct{}), known: map[uint64]owners.Process{}}
	e := New(Sources{Kernel: k, Names: fixture.LoadNames(t, NotAvailable), Owners: slow}, DefaultOptions(), zap.NewNop())
	var sink dropSink
	e.Start(Outputs{Drops: sink.take})
	released := false
	defer func() {
		if !released {
			close(slow.release)
		}
		_ = e.Stop() // the test has its verdict by then
	}()

	for deadline := time.Now().Add(30 * time.Second); sink.n.Load() < batches*readBatch; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("with owner lookups blocked, %d of %d batches were read and %d of %d drops handed out: the lookups held the ring up",
				k.taken.Load(), batches, sink.n.Load(), batches*readBatch)
		}
	}
	if slow.lookups.Load() == 0 {
		t.Fatal("no owner was looked up: the test did not block anything")
	}
	for _, d := range sink.all() {
		if d.Owner.Status != OwnerUnknown {
			t.Fatalf("drop of socket %d: owner %+v while every lookup was blocked", d.SocketInode, d.Owner)
		}
	}

	close(slow.release)
	released = true
	first := slow.first.Load()
	waitUntil(t, 10*time.Second, fmt.Sprintf("the released lookup of socket %d finishes", first), func() bool {
		_, ok := slow.Cached(first)
		return ok
	})
	k.batches <- eventsOf(1, first)
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	all := sink.all()
	if len(all) != batches*readBatch+1 {
		t.Fatalf("%d drops handed out, want every one of the %d read", len(all), batches*readBatch+1)
	}
	if last := all[len(all)-1]; last.Owner.Status != OwnerProcess || last.Owner.Process.Comm != "late" {
		t.Errorf("a drop of socket %d after its lookup returned: owner %+v", first, last.Owner)
	}
	t.Logf("%d drops read and handed out with every owner lookup blocked (%d lookups asked)", batches*readBatch, slow.lookups.Load())
}
