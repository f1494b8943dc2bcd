// SPDX-License-Identifier: Apache-2.0

package listeners

import "slices"

// nsState is what a Watcher remembers of one namespace between Polls.
type nsState struct {
	cookie    uint64
	counters  nsCounters
	listeners []Listener        // as last dumped
	moved     bool              // its devices moved since that dump: a queue may have filled
	queued    bool              // a listener had connections in its queue at that dump
	drops     map[uint64]uint32 // socket cookie -> last sk_drops (32 bits on the wire)
	lastGrown map[uint64]uint64 // socket cookie -> NewDrops, of the last Poll where any listener grew
	// closing are listeners that stopped listening after their last dump
	// (the dump still listed them), with their drops since: their share of
	// the next growth of the counters.
	closing []Overflow
}

// updateAll folds the snapshots of a Poll, and the listeners that stopped
// listening since the last one (closed, by namespace), into the Watcher's
// state and returns what grew.
func (w *Watcher) updateAll(snaps []snapshot, closed map[uint32][]Listener) []Overflow {
	var out []Overflow
	updated := make(map[uint32]bool, len(snaps))
	for _, s := range snaps {
		out = w.update(s, closed[s.netns], out)
		updated[s.netns] = true
	}
	for ino, st := range w.ns {
		if !updated[ino] {
			st.closing = nil // its counters did not move: nothing overflowed since
		}
	}
	return out
}

// update folds one namespace's snapshot, and the listeners that stopped
// listening there since the last Poll (closed), into the Watcher's state
// and appends what grew to out.
func (w *Watcher) update(s snapshot, closed []Listener, out []Overflow) []Overflow {
	if st, ok := w.ns[s.netns]; !ok || !sameSockets(st.listeners, s.listeners) {
		w.version++
	}
	st := w.countedAgainst(s)
	if st == nil {
		st = &nsState{cookie: s.cookie}
		st.advance(s, nil)
		w.ns[s.netns] = st
		return out
	}
	grown, closing := st.attribute(s, closed)
	st.advance(s, closing)
	return append(out, grown...)
}

// countedAgainst is the state the growth in s is counted against, nil if
// s is a baseline: its namespace was there at the start, or was counted
// before it was lost from sight, or its counters went back. A namespace
// created since the start (or another one under a reused inode) gets a
// state of zeros: its counters and its sockets' began at zero.
func (w *Watcher) countedAgainst(s snapshot) *nsState {
	st, ok := w.ns[s.netns]
	existed := (w.atStart[s.netns] && !w.createdSinceStart(s.netns)) || w.gone[s.cookie]
	delete(w.atStart, s.netns)
	delete(w.gone, s.cookie)
	switch {
	case !ok && existed, ok && st.cookie == s.cookie && s.counters.wentBackFrom(st.counters):
		return nil
	case !ok || st.cookie != s.cookie:
		st = &nsState{cookie: s.cookie, drops: map[uint64]uint32{}}
		w.ns[s.netns] = st
	}
	return st
}

// attribute shares the growth of the namespace's counters since st among
// its listeners. closing are the listeners that stopped after the dump of
// s (closedShares): their share is of the next growth.
func (st *nsState) attribute(s snapshot, closed []Listener) (grown, closing []Overflow) {
	dOver := s.counters.ListenOverflows - st.counters.ListenOverflows
	dDrops := s.counters.ListenDrops - st.counters.ListenDrops
	for _, l := range s.listeners {
		// sk_drops is 32 bits on the wire: the subtraction wraps with it.
		// A listener not seen before was created since: count from zero.
		if d := uint64(uint32(l.Drops) - st.drops[l.Cookie]); d > 0 {
			grown = append(grown, Overflow{Listener: l, NewDrops: d})
		}
	}
	grown, closing = st.closedShares(s.listeners, closed, grown)
	switch {
	case len(grown) > 0:
		weights := make([]uint64, len(grown))
		st.lastGrown = make(map[uint64]uint64, len(grown))
		for i, g := range grown {
			weights[i] = g.NewDrops
			st.lastGrown[g.Cookie] = g.NewDrops
		}
		give(grown, dOver, dDrops, weights, len(grown) > 1 && dOver+dDrops > 0)
	case dOver > 0 || dDrops > 0:
		grown = st.toLastGrown(s, dOver, dDrops)
	}
	return grown, closing
}

// toLastGrown gives growth no socket's sk_drops shows (the read raced an
// overflow, or the listener closed) to the listeners that grew last, if
// they still listen, else to no listener.
func (st *nsState) toLastGrown(s snapshot, dOver, dDrops uint64) []Overflow {
	var grown []Overflow
	var weights []uint64
	for _, l := range s.listeners {
		if wgt, ok := st.lastGrown[l.Cookie]; ok {
			grown = append(grown, Overflow{Listener: l})
			weights = append(weights, wgt)
		}
	}
	if len(grown) == 0 {
		grown = []Overflow{{Listener: Listener{Netns: s.netns}}}
		weights = []uint64{1}
	}
	give(grown, dOver, dDrops, weights, true)
	return grown
}

// advance makes s the namespace's last snapshot.
func (st *nsState) advance(s snapshot, closing []Overflow) {
	st.counters = s.counters
	drops := dropsOf(s.listeners)
	if s.interrupted {
		// The dump may have missed listeners: keep their last values, or
		// they would count from zero when seen again.
		for c, d := range st.drops {
			if _, ok := drops[c]; !ok {
				drops[c] = d
			}
		}
	}
	st.drops = drops
	st.listeners = s.listeners
	st.moved, st.queued = s.interrupted, anyQueued(s.listeners)
	st.closing = closing
}

// closedShares adds to grown the listeners of the namespace that stopped
// listening before its snapshot, each with its drops since its last dump
// (the final count the kernel kept, against the dump's), and the ones that
// closed since the last Poll's growth was attributed (st.closing). A
// listener the snapshot still lists stopped after its dump: it is returned
// in closing, with its drops since that dump, for the next growth.
func (st *nsState) closedShares(listed []Listener, closed []Listener, grown []Overflow) (_ []Overflow, closing []Overflow) {
	grown = append(grown, st.closing...)
	if len(closed) == 0 {
		return grown, nil
	}
	inDump := make(map[uint64]Listener, len(listed))
	for _, l := range listed {
		inDump[l.Cookie] = l
	}
	last := make(map[uint64]Listener, len(st.listeners))
	for _, l := range st.listeners {
		last[l.Cookie] = l
	}
	for _, c := range closed {
		if l, ok := inDump[c.Cookie]; ok && c.Cookie != 0 {
			if d := uint64(uint32(c.Drops) - uint32(l.Drops)); d > 0 {
				closing = append(closing, closedOverflow(l, c, d))
			}
			continue
		}
		// Cookie 0: never dumped, so born since the last dump.
		var since uint32
		if c.Cookie != 0 {
			since = st.drops[c.Cookie]
		}
		if d := uint64(uint32(c.Drops) - since); d > 0 {
			grown = append(grown, closedOverflow(last[c.Cookie], c, d))
		}
	}
	return grown, closing
}

// closedOverflow is the share-to-be of a listener that stopped: as last
// dumped (dumped, if its Cookie is set), else as the kernel keyed it.
func closedOverflow(dumped, c Listener, newDrops uint64) Overflow {
	l := c
	if dumped.Cookie != 0 {
		l = dumped
		l.Drops = c.Drops
	}
	l.Backlog = 0
	return Overflow{Listener: l, NewDrops: newDrops, Closed: true}
}

// sameSockets tells whether two dumps of a namespace list the same sockets
// at the same addresses, in the same order.
func sameSockets(a, b []Listener) bool {
	return slices.EqualFunc(a, b, func(x, y Listener) bool {
		return x.Cookie == y.Cookie && x.Addr == y.Addr && x.Inode == y.Inode && x.V6Only == y.V6Only
	})
}

// give splits the namespace's growth among grown by weights.
func give(grown []Overflow, dOver, dDrops uint64, weights []uint64, estimated bool) {
	o, d := split(dOver, weights), split(dDrops, weights)
	for i := range grown {
		grown[i].Overflows, grown[i].ListenDrops, grown[i].Estimated = o[i], d[i], estimated
	}
}

// anyQueued tells whether one of ls has connections waiting in its queue.
func anyQueued(ls []Listener) bool {
	return slices.ContainsFunc(ls, func(l Listener) bool { return l.Backlog > 0 })
}

func dropsOf(ls []Listener) map[uint64]uint32 {
	m := make(map[uint64]uint32, len(ls))
	for _, l := range ls {
		m[l.Cookie] = uint32(l.Drops)
	}
	return m
}
