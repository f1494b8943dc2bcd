// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/listeners"
	"github.com/tcpdrop/tcpdrop/internal/owners"
	"github.com/tcpdrop/tcpdrop/internal/probe"

	"github.com/tcpdrop/tcpdrop/harness/fixture"
)

// pollCounter is a listen-queue watcher that counts its polls by mode. Its
// one listener's Backlog is the number of PollEverything and PollRefresh
// polls so far, so a collection shows which one its gauges come from; its
// Version grows at every fifth PollCounters. It keeps the changed
// namespaces of each PollRefresh.
type pollCounter struct {
	polls, all, refreshes atomic.Int64
	closed                atomic.Bool
	mu                    sync.Mutex
	changed               []map[uint32]bool
}

func (p *pollCounter) Poll(mode listeners.Mode, changed map[uint32]bool) ([]listeners.Overflow, error) {
	switch mode {
	case listeners.PollCounters:
		p.polls.Add(1)
	case listeners.PollRefresh:
		p.mu.Lock()
		p.changed = append(p.changed, changed)
		p.mu.Unlock()
		p.refreshes.Add(1)
	case listeners.PollEverything:
		p.all.Add(1)
	}
	return nil, nil
}

func (p *pollCounter) Listeners() []listeners.Listener {
	return []listeners.Listener{{Netns: 1, Inode: 7, Backlog: uint32(p.all.Load() + p.refreshes.Load())}}
}

func (p *pollCounter) Version() uint64        { return uint64(p.polls.Load() / 5) }
func (p *pollCounter) Stats() listeners.Stats { return listeners.Stats{} }
func (p *pollCounter) Close()                 { p.closed.Store(true) }

// tableKernel counts the listener tables it is given, and says namespace
// 5 changed.
type tableKernel struct {
	*cannedKernel
	sets atomic.Int64
}

func (k *tableKernel) ListenersChangedIn() (map[uint32]bool, error) {
	return map[uint32]bool{5: true}, nil
}

func (k *tableKernel) SetListeners(map[probe.ListenerAddr]uint64) error {
	k.sets.Add(1)
	return nil
}

// TestListenPollsDumpOnlyWhenNeeded: with a listener table the kernel keeps
// current, the polls between collections only read counters (Poll), every
// collection first refreshes the listeners (PollRefresh, with the
// namespaces the kernel says changed) and hands out the gauges of that
// refresh, all are dumped (PollEverything) only at Start and Stop, and the kernel's table is
// set only when the listeners changed. At Stop the watcher is closed.
func TestListenPollsDumpOnlyWhenNeeded(t *testing.T) {
	w := &pollCounter{}
	k := &tableKernel{cannedKernel: newCannedKernel()}
	opts := DefaultOptions()
	opts.ListenQueues.PollInterval = 10 * time.Millisecond
	opts.CollectionInterval = 100 * time.Millisecond
	e := New(Sources{Kernel: k, ListenTableLive: true, Names: fixture.LoadNames(t, NotAvailable), Listeners: w}, opts, zap.NewNop())
	var mu sync.Mutex
	var backlogs []uint32
	e.Start(Outputs{Counts: func(_ Counts, ls []Listener, _ time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if len(ls) == 1 {
			backlogs = append(backlogs, ls[0].Backlog)
		}
	}})
	// The intervals are what is tested: polls and refreshes counted over a
	// fixed span.
	time.Sleep(550 * time.Millisecond)
	polls, refreshes, sets := w.polls.Load(), w.refreshes.Load(), k.sets.Load()
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d polls, %d refreshes, %d full polls, %d listener tables set, collections' backlogs %v", polls, refreshes, w.all.Load(), sets, backlogs)
	if polls < 10 {
		t.Errorf("%d counter-only polls in 550ms at a 10ms interval", polls)
	}
	// One per collection (5 in 550ms).
	if refreshes < 3 || refreshes > 7 {
		t.Errorf("%d refreshes; want one per collection", refreshes)
	}
	if all := w.all.Load(); all != 2 {
		t.Errorf("%d full polls; want one at Start and one at Stop", all)
	}
	w.mu.Lock()
	for _, c := range w.changed {
		if len(c) != 1 || !c[5] {
			t.Errorf("a refresh was given changed namespaces %v; want the kernel's, {5}", c)
		}
	}
	w.mu.Unlock()
	// One table per Version: polls/5 + 1, not one per poll.
	if want := polls/5 + 1; sets > want+1 || sets < 1 {
		t.Errorf("listener table set %d times for %d versions", sets, want)
	}
	// Each collection's gauges are from the refresh just before it: 2, 3,
	// ... (the first poll is 1), and the final one's from the poll at Stop.
	for i, b := range backlogs {
		if int(b) != i+2 {
			t.Errorf("collection %d handed out the gauges of refresh %d, want %d (all: %v)", i, b, i+2, backlogs)
			break
		}
	}
	if !w.closed.Load() {
		t.Errorf("the watcher was not closed at Stop")
	}
}

// TestListenPollsAllWithoutLiveTable: when the kernel's listener table does
// not follow listen() by itself, every poll dumps every listener, as the
// table is kept current only by them.
func TestListenPollsAllWithoutLiveTable(t *testing.T) {
	w := &pollCounter{}
	opts := DefaultOptions()
	opts.ListenQueues.PollInterval = 10 * time.Millisecond
	e := New(Sources{Kernel: newCannedKernel(), Names: fixture.LoadNames(t, NotAvailable), Listeners: w}, opts, zap.NewNop())
	e.Start(Outputs{})
	waitUntil(t, 10*time.Second, "five full polls", func() bool { return w.all.Load() >= 5 })
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if p, a := w.polls.Load(), w.all.Load(); p != 0 || a < 5 {
		t.Errorf("%d counter-only polls and %d full polls; want only full ones", p, a)
	}
}

// goneOwners knows the owner of inode 7 until forget is set: the process
// was killed, and a scan since forgot it.
type goneOwners struct{ forget atomic.Bool }

func (g *goneOwners) Lookup(inode uint64, _ time.Time) (owners.Process, bool) { return g.Cached(inode) }
func (g *goneOwners) Cached(inode uint64) (owners.Process, bool) {
	if inode != 7 || g.forget.Load() {
		return owners.Process{}, false
	}
	return owners.Process{PID: 70, Comm: "server"}, true
}

// closingWatcher lists listener 7 until its first PollCounters (after a
// PollEverything), which finds it closed with 5 overflows since.
type closingWatcher struct {
	pollCounter
}

func (c *closingWatcher) Poll(mode listeners.Mode, changed map[uint32]bool) ([]listeners.Overflow, error) {
	if mode != listeners.PollCounters {
		return c.pollCounter.Poll(mode, changed)
	}
	if c.polls.Add(1) != 1 {
		return nil, nil
	}
	return []listeners.Overflow{{Listener: listeners.Listener{Netns: 1, Inode: 7}, Overflows: 5, Closed: true}}, nil
}

func (c *closingWatcher) Listeners() []listeners.Listener {
	if c.polls.Load() >= 1 {
		return nil
	}
	return []listeners.Listener{{Netns: 1, Inode: 7}}
}

func (c *closingWatcher) Version() uint64 { return uint64(c.polls.Load()) }

// TestClosedListenersOverflowsKeepTheirOwner: the last overflows of a
// listener whose process was killed (no scan finds it any more) go to its
// owner as the poll that last listed it found it.
func TestClosedListenersOverflowsKeepTheirOwner(t *testing.T) {
	w, o := &closingWatcher{}, &goneOwners{}
	e := New(Sources{Kernel: &tableKernel{cannedKernel: newCannedKernel()}, ListenTableLive: true, Names: fixture.LoadNames(t, NotAvailable), Owners: o, Listeners: w},
		DefaultOptions(), zap.NewNop())
	var got []Overflow
	e.out.Overflows = func(os []Overflow) { got = append(got, os...) }
	e.pollListenQueues(listeners.PollEverything) // lists listener 7, owned by pid 70
	o.forget.Store(true)                         // killed
	e.pollListenQueues(listeners.PollCounters)   // its last overflows
	if len(got) != 1 || got[0].Owner.Status != OwnerProcess || got[0].Owner.Process.PID != 70 || got[0].Overflows != 5 {
		t.Fatalf("the closed listener's overflows went to %+v; want its 5 to pid 70", got)
	}
}
