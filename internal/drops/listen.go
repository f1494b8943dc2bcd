// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"time"

	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/listeners"
)

// Listeners is what the engine needs of the listen-queue watcher
// (listeners.Watcher); tests give it fixtures.
type Listeners interface {
	// Poll reads the overflow counters of every namespace and dumps the
	// listeners mode asks for (listeners.Mode); changed, for a
	// listeners.PollRefresh, are the namespaces where sockets started or
	// stopped listening.
	Poll(mode listeners.Mode, changed map[uint32]bool) ([]listeners.Overflow, error)
	Listeners() []listeners.Listener
	// Version grows when the set of listening sockets changes.
	Version() uint64
	Stats() listeners.Stats
	// Close releases what the watcher holds open (namespaces).
	Close()
}

// Listener is a listening socket, as last polled, with its owner.
type Listener struct {
	listeners.Listener
	Owner Owner
}

// Overflow is one listener's listen-queue overflows since the last poll,
// with its owner.
type Overflow struct {
	listeners.Overflow
	Owner Owner
}

// watchListenQueues polls the listen queues every poll interval: their
// overflow counters, cheaply, and the listeners of the namespaces whose
// counters moved. Listeners are refreshed when a collection asks for their
// queue gauges (refreshListeners) and every collection interval when no
// one collects; all are dumped at every poll when the kernel's listener
// table does not follow listen() by itself (then the polls keep it
// current).
func (e *Engine) watchListenQueues() {
	defer e.tickers.Done()
	ticker := time.NewTicker(e.opts.ListenQueues.PollInterval)
	defer ticker.Stop()
	lastRefresh := time.Now()
	for {
		select {
		case <-e.stopTicker:
			return
		case done := <-e.refreshes:
			e.pollListenQueues(listeners.PollRefresh)
			lastRefresh = time.Now()
			close(done)
		case now := <-ticker.C:
			mode := listeners.PollCounters
			switch {
			case !e.listenTableLive:
				mode = listeners.PollEverything
			case e.out.Counts == nil && now.Sub(lastRefresh) >= e.opts.CollectionInterval:
				mode = listeners.PollRefresh
			}
			e.pollListenQueues(mode)
			if mode != listeners.PollCounters {
				lastRefresh = now
			}
		}
	}
}

// refreshListeners has the listen-queue loop refresh the listeners, and
// waits for it, so that a collection hands out current queue gauges. The
// collection has taken the kernel's counts before: a slow refresh delays
// the push, not what the points say.
func (e *Engine) refreshListeners() {
	if e.src.Listeners == nil {
		return
	}
	done := make(chan struct{})
	select {
	case e.refreshes <- done:
	case <-e.stopTicker:
		return
	}
	select {
	case <-done:
	case <-e.stopTicker:
	}
}

// pollListenQueues polls the listeners as mode says, hands out the
// overflows since the last poll, keeps the listeners for Outputs.Counts
// when they were refreshed or they changed, and gives the kernel program
// their addresses when they changed, so that packets dropped on their way
// to a listener are attributed to its owner. Owners are looked up here,
// off the ring's path.
func (e *Engine) pollListenQueues(mode listeners.Mode) {
	overflows, err := e.pollListeners(mode)
	polled := time.Now() // every listener of the poll existed then
	e.logListenPoll(mode, err)
	before := e.watchedListeners()
	e.updateListeners(mode, polled)
	e.handOutOverflows(overflows, before, polled)
}

// logListenPoll warns of namespaces that could not be read, once for the
// same error every second, and logs the poll's figures at debug level.
func (e *Engine) logListenPoll(mode listeners.Mode, err error) {
	if err != nil {
		if msg := err.Error(); msg != e.lastListenErr {
			e.lastListenErr = msg
			e.log.Warn("tcp_drop: reading listen queues", zap.Error(err))
		}
	}
	if ce := e.log.Check(zap.DebugLevel, "tcp_drop: listen-queue poll"); ce != nil {
		st := e.src.Listeners.Stats()
		ce.Write(zap.Int("mode", int(mode)), zap.Int("namespaces", st.Namespaces), zap.Int("counted", st.Counted), zap.Int("dumped", st.Dumped),
			zap.Int("listeners", st.Listeners), zap.Duration("duration", st.Duration), zap.Duration("last_fd_scan", st.FDScanDuration))
	}
}

// updateListeners keeps the listeners with their owners when the poll
// refreshed them or they changed, and gives the kernel's listener table
// their addresses when they changed.
func (e *Engine) updateListeners(mode listeners.Mode, polled time.Time) {
	version := e.src.Listeners.Version()
	changed := !e.listenTableSet || version != e.listenVersion
	if mode == listeners.PollCounters && !changed {
		return
	}
	ls := e.src.Listeners.Listeners()
	watched := make([]Listener, len(ls))
	for i, l := range ls {
		// A listener whose owner was not found is not looked for
		// again at every poll: the resolver remembers it (with a
		// backoff), and answers at once.
		watched[i] = Listener{Listener: l, Owner: FindOwner(e.src.Owners, l.Inode, polled)}
	}
	e.watched.Store(&watched)
	if !changed {
		return
	}
	if err := e.src.Kernel.SetListeners(listenerTable(ls)); err != nil {
		e.log.Warn("tcp_drop: updating the kernel's listener table", zap.Error(err))
	} else {
		e.listenTableSet, e.listenVersion = true, version
	}
}

// handOutOverflows counts each listener's overflows under its owner (for
// a closed listener whose process is gone, the one before found) and hands
// out those the logs want.
func (e *Engine) handOutOverflows(overflows []listeners.Overflow, before []Listener, polled time.Time) {
	var found []Overflow
	for _, o := range overflows {
		if o.Overflows == 0 {
			continue
		}
		ov := Overflow{Overflow: o, Owner: FindOwner(e.src.Owners, o.Inode, polled)}
		if ov.Owner.Status == OwnerUnknown && o.Closed {
			// Its process is gone (killed with its server): the owner as
			// the last poll that listed the listener found it.
			ov.Owner = lastOwner(before, o.Inode, ov.Owner)
		}
		e.tally.AddOverflows(ov.Owner, o.Overflows)
		if e.out.Overflows == nil {
			continue // not logged, so not filtered (as in count-only mode)
		}
		if !e.overflowsLogged.logs(o.Addr.Port()) {
			e.overflowsOut.Add(o.Overflows)
			continue
		}
		found = append(found, ov)
	}
	if len(found) > 0 {
		e.out.Overflows(found)
	}
}

// lastOwner is the owner of the listener with the given inode among ls,
// or otherwise.
func lastOwner(ls []Listener, inode uint64, otherwise Owner) Owner {
	for _, l := range ls {
		if l.Inode == inode && l.Owner.Status == OwnerProcess {
			return l.Owner
		}
	}
	return otherwise
}

// pollListeners runs one poll of the listen-queue watcher. A refresh asks
// the kernel where sockets started or stopped listening since the table
// was last set, which it knows only with a live table; else, or if that
// fails, every listener is dumped.
func (e *Engine) pollListeners(mode listeners.Mode) ([]listeners.Overflow, error) {
	if mode != listeners.PollRefresh {
		return e.src.Listeners.Poll(mode, nil)
	}
	if e.listenTableLive {
		changed, err := e.src.Kernel.ListenersChangedIn()
		if err == nil {
			return e.src.Listeners.Poll(mode, changed)
		}
		e.log.Debug("tcp_drop: reading the kernel's listener table; dumping every listener", zap.Error(err))
	}
	return e.src.Listeners.Poll(listeners.PollEverything, nil)
}

// watchedListeners returns the listeners of the last poll (nil if none).
func (e *Engine) watchedListeners() []Listener {
	if w := e.watched.Load(); w != nil {
		return *w
	}
	return nil
}
