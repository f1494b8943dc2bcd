// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/listeners"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// Kernel is what the engine needs of the kernel program (probe.Probe);
// tests and benchmarks give it canned events.
type Kernel interface {
	ReadBatch(evs []probe.Event) (int, error)
	TakeCounts() (probe.Counts, error)
	SetListeners(map[probe.ListenerAddr]uint64) error
	// ListenersChangedIn is where the listener table changed since it was
	// last set (probe.Probe.ListenersChangedIn).
	ListenersChangedIn() (map[uint32]bool, error)
	Detach() error
	Close() error
}

// Sources is everything the engine reads: the kernel program and what it
// can do, the names of the running kernel, and the host's processes and
// listening sockets.
type Sources struct {
	Kernel Kernel
	// ListenTableLive: the kernel program keeps its listener table current
	// by itself (probe.Probe.ListenStateErr is nil), so that the
	// listen-queue polls dump listeners only where overflows are to be
	// attributed, and at collections.
	ListenTableLive bool
	// NoDropReasons: the kernel passes no drop reasons (before 5.17); the
	// log filters' reasons then leave out no listen-queue overflow either,
	// as they leave out none of the program's drops.
	NoDropReasons bool
	Names         Names
	Owners        Owners    // nil: owners are not resolved
	Listeners     Listeners // nil: listen queues are not watched
}

// Outputs receive what the engine finds, each from one goroutine at a
// time. A nil Output is not produced.
type Outputs struct {
	// Drops gets every batch of drops read from the ring. A slow Drops
	// holds the ring's reading up; the kernel then counts what the full
	// ring could not take in Counts.Lost.
	Drops func([]Drop)
	// Overflows gets the listen-queue overflows of every poll that found
	// some.
	Overflows func([]Overflow)
	// Counts gets the cumulative counts every CollectionInterval, and once
	// more at Stop, with the listeners of the last poll (nil when not
	// watched).
	Counts func(c Counts, ls []Listener, now time.Time)
	// Repeats gets, at each collection that found some, the interval's
	// repeats by key (Options.LogRecordsPerKey); with Drops, the drops'
	// records and these account for every drop sent or repeated.
	Repeats func([]Repeat)
}

// readBatch is how many events are read from the ring at most at once.
const readBatch = 1024

// Engine runs the loops between the kernel program and its Outputs.
type Engine struct {
	opts  Options
	src   Sources
	log   *zap.Logger
	out   Outputs
	tally *Tally

	watched         atomic.Pointer[[]Listener] // the listeners of the last poll that read them all or saw them change
	lastListenErr   string                     // the last error of a listen-queue poll, logged once
	listenTableLive bool                       // Sources.ListenTableLive
	listenTableSet  bool                       // the kernel's listener table was set from listenVersion
	listenVersion   uint64                     // the Listeners' Version the table was set from
	refreshes       chan chan struct{}         // a collection asks the listen-queue loop for a refresh
	overflowsLogged overflowFilter             // which listeners' overflows become records
	overflowsOut    atomic.Uint64              // overflows overflowsLogged left out: in Counts.Filtered

	pipe       *dropPipe     // from the ring to Outputs.Drops (deliver.go); nil without Drops
	draining   atomic.Bool   // the kernel program is detached: read what is left, then stop
	stopTicker chan struct{} // ends the timed loops
	readers    sync.WaitGroup
	resolvers  sync.WaitGroup
	tickers    sync.WaitGroup
	started    bool
	stopOnce   sync.Once
	stopErr    error
}

// New returns an engine reading src with opts; Start starts it. The
// listen-queue polls keep the kernel's listener table current, dumping
// every listener at every poll unless src.ListenTableLive (see
// watchListenQueues).
func New(src Sources, opts Options, logger *zap.Logger) *Engine {
	return &Engine{opts: opts, src: src, log: logger, tally: NewTally(src.Names, src.Owners, opts.SeriesExpiry),
		stopTicker: make(chan struct{}), refreshes: make(chan chan struct{}),
		listenTableLive: src.ListenTableLive, overflowsLogged: opts.Logs.overflowFilter(!src.NoDropReasons)}
}

// Start starts the loops that feed out: reading the ring (for Drops),
// collecting the counts (for Counts), and, when listen queues are watched,
// polling them, whose first poll, made before Start returns, is the
// baseline overflows count from.
func (e *Engine) Start(out Outputs) {
	e.out = out
	e.started = true
	if out.Drops != nil {
		e.pipe = newDropPipe()
		e.readers.Add(2)
		go e.readDrops()
		go e.deliverDrops()
		if e.src.Owners != nil {
			e.resolvers.Add(1)
			go e.resolveOwners()
		}
	}
	if out.Counts != nil || out.Repeats != nil {
		e.tickers.Add(1)
		go e.collectCounts()
	}
	if e.src.Listeners != nil {
		e.pollListenQueues(listeners.PollEverything)
		e.tickers.Add(1)
		go e.watchListenQueues()
	}
}

// ResolvesOwners and WatchesListenQueues tell whether the engine does
// those jobs: the options ask for them, and the privileges allow them.
func (e *Engine) ResolvesOwners() bool      { return e.src.Owners != nil }
func (e *Engine) WatchesListenQueues() bool { return e.src.Listeners != nil }

// Stop detaches the kernel program, so that no new drop arrives, hands out
// the drops still in the ring, the overflows since the last poll and the
// final counts, then unloads the program. Safe to call twice.
func (e *Engine) Stop() error {
	e.stopOnce.Do(func() {
		err := e.src.Kernel.Detach()
		if e.started {
			e.draining.Store(true)
			e.readers.Wait()
			if e.pipe != nil {
				close(e.pipe.jobs)
				e.resolvers.Wait()
			}
			close(e.stopTicker)
			e.tickers.Wait()
			if e.src.Listeners != nil {
				e.pollListenQueues(listeners.PollEverything)
				e.src.Listeners.Close()
			}
			if e.out.Counts != nil || e.out.Repeats != nil {
				e.collect(time.Now())
			}
		}
		e.stopErr = errors.Join(err, e.src.Kernel.Close(), closeOwners(e.src.Owners))
	})
	return e.stopErr
}

// closeOwners releases what the owner resolver holds (owners.Resolver: the
// kernel's iterator), once nothing looks owners up any more.
func closeOwners(o Owners) error {
	if c, ok := o.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// collectCounts hands out the counts every collection interval. A
// collection that runs late (a tick it missed is dropped) says by how much
// in Counts.Delay.
func (e *Engine) collectCounts() {
	defer e.tickers.Done()
	ticker := time.NewTicker(e.opts.CollectionInterval)
	defer ticker.Stop()
	for {
		select {
		case <-e.stopTicker:
			return
		case due := <-ticker.C:
			e.collect(due)
		}
	}
}

// collect takes the kernel's counts first, so that they are as of the
// collection's time whatever comes after, then hands them out: the
// interval's repeats, and the counts with the listeners, refreshed.
func (e *Engine) collect(due time.Time) {
	c, err := e.src.Kernel.TakeCounts()
	now := time.Now()
	if err != nil {
		e.log.Error("tcp_drop: reading the kernel's counts", zap.Error(err))
		return
	}
	c.Filtered += e.overflowsOut.Load()
	counts := e.tally.Add(c, now)
	counts.Delay = max(0, now.Sub(due))
	if e.out.Repeats != nil && len(counts.Repeats) > 0 {
		e.out.Repeats(counts.Repeats)
	}
	if e.out.Counts != nil {
		e.refreshListeners()
		e.out.Counts(counts, e.watchedListeners(), now)
	}
}
