// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/netns"
)

// Mode says which namespaces a Poll dumps besides those whose overflow
// counters moved and those new to the Watcher. Every mode reads every
// namespace's counters and reports the overflows since the last Poll.
type Mode int

const (
	// PollCounters dumps no other namespace: the cheap poll, run often.
	PollCounters Mode = iota
	// PollRefresh dumps also every namespace whose listeners may have
	// changed since its last dump: its devices moved (a packet can fill a
	// queue), a queue was not empty (accept() empties it without a
	// packet), or the changed set of Poll names it (sockets started or
	// stopped listening there: probe.Probe.ListenersChangedIn). Every
	// queue's fill is then as current as after PollEverything, and
	// processes that changed namespace are seen, without a dump of the
	// quiet namespaces: on an idle host, none. Only a second listen() on a
	// listening socket, which changes its queue's limit and nothing else,
	// is seen no sooner than its namespace's next dump.
	PollRefresh
	// PollEverything dumps every namespace: every queue's fill is then
	// current, and processes that changed namespace are seen.
	PollEverything
)

// Poll reads every namespace's counters and returns the listeners whose
// drops grew since the previous Poll, dumping the namespaces mode asks
// for; changed, read by PollRefresh only, are the namespaces where sockets
// started or stopped listening. The queue fill of the namespaces not
// dumped (Listeners) is as of their last dump.
//
// The first Poll only takes a baseline: the namespaces that existed at the
// start count from then. A namespace first seen later was created since
// (or was not to be found at the start): its counters, which the kernel
// starts at zero with the namespace, count from zero, so a server
// overloaded before the namespace's first Poll is counted in full. So does
// a listener first seen in a namespace already watched (it was created
// since). Namespaces that cannot be read are skipped and reported in the
// error; the overflows returned are valid even then.
func (w *Watcher) Poll(mode Mode, changed map[uint32]bool) ([]Overflow, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	start := time.Now()
	w.polls++
	paths := w.discovery.find(mode != PollCounters, w.handles.isFD)
	kept := w.keepListening(paths)
	inodes, errs := w.toRead(paths)
	self := selfProcessNetns()
	read, counted := 0, 0
	var snaps []snapshot
	for _, ino := range inodes {
		m := mode
		if kept[ino] || (mode == PollRefresh && changed[ino]) {
			m = PollEverything
		}
		s, count, err := w.read(ino, paths[ino], ino == self, m)
		if count {
			counted++
		}
		if err != nil {
			if !errors.Is(err, errGone) {
				errs = append(errs, fmt.Errorf("network namespace %d (%s): %w", ino, paths[ino], err))
			}
			// Still discovered (see forget): its listeners as last read.
			continue
		}
		read++
		if s != nil {
			snaps = append(snaps, *s)
		}
	}
	// Taken after every snapshot: a listener that stopped before its
	// namespace's counters were read is among them.
	closed, err := w.takeClosed()
	if err != nil {
		errs = append(errs, err)
	}
	out := w.updateAll(snaps, closed)
	if forgot := w.forget(paths); len(snaps) > 0 || forgot {
		w.last = w.listenersOfAll()
	}
	w.stats = Stats{Namespaces: read, Counted: counted, Dumped: len(snaps), Listeners: len(w.last),
		Duration: time.Since(start), FDScanDuration: w.discovery.scanCost}
	if len(errs) > 8 {
		errs = append(errs[:8], fmt.Errorf("and %d more", len(errs)-8))
	}
	return out, errors.Join(errs...)
}

// toRead is the namespaces a Poll reads, by inode, at most maxNamespaces.
// The first Poll notes them as there at its start.
func (w *Watcher) toRead(paths map[uint32]string) ([]uint32, []error) {
	inodes := make([]uint32, 0, len(paths))
	for ino := range paths {
		inodes = append(inodes, ino)
	}
	slices.Sort(inodes)
	if w.polls == 1 {
		w.atStart = make(map[uint32]bool, len(inodes))
		for _, ino := range inodes {
			w.atStart[ino] = true
		}
	}
	if len(inodes) > maxNamespaces {
		err := fmt.Errorf("listeners: %d network namespaces, reading the first %d", len(inodes), maxNamespaces)
		return inodes[:maxNamespaces], []error{err}
	}
	return inodes, nil
}

// read reads namespace ino's device counters and, if they moved, its
// overflow counters (counted); and returns its snapshot if the overflow
// counters moved, it is new, or mode asks for a dump; nil if none is due.
func (w *Watcher) read(ino uint32, path string, own bool, mode Mode) (_ *snapshot, counted bool, _ error) {
	h, keep, err := w.handles.get(ino, path, own)
	if err != nil {
		return nil, false, err
	}
	if !keep {
		defer h.close()
	}
	st := w.ns[ino]
	known := st != nil && st.cookie == h.cookie
	q, changed, err := h.quiet(&w.scratch)
	if err != nil {
		return nil, false, err
	}
	if known && changed {
		st.moved = true // until its next dump (update)
	}
	dump := mode == PollEverything || (mode == PollRefresh && known && (st.moved || st.queued))
	switch {
	case q && known && !dump:
		return nil, false, nil
	case q && known:
		// No packet: the counters and every sk_drops are as last read;
		// only the queues' fill is wanted.
		s := snapshot{netns: ino, cookie: h.cookie, counters: st.counters}
		return &s, false, s.dump(h.diag, w.scratch.recvBuf())
	}
	c, err := h.counters(&w.scratch)
	if err != nil {
		return nil, true, err
	}
	if known && !dump && st.counters == c {
		return nil, true, nil
	}
	s, err := h.snapshot(&w.scratch, &c)
	return &s, true, err
}

// listenersOfAll is every namespace's listeners as last dumped, by
// namespace.
func (w *Watcher) listenersOfAll() []Listener {
	inodes := make([]uint32, 0, len(w.ns))
	n := 0
	for ino, st := range w.ns {
		inodes = append(inodes, ino)
		n += len(st.listeners)
	}
	slices.Sort(inodes)
	ls := make([]Listener, 0, n)
	for _, ino := range inodes {
		ls = append(ls, w.ns[ino].listeners...)
	}
	return ls
}

// forget drops the state of the namespaces that were not discovered: gone,
// so that a namespace reusing the inode starts afresh (from zero: it is new;
// the same namespace seen again, by its cookie, takes a baseline), and
// closes their handles, which kept them alive. A namespace that was
// discovered but could not be read keeps its state (and Poll its
// listeners), and its growth is counted at the next read: its path can
// lead elsewhere by the time it is opened (a thread that entered the
// namespace for a moment and left), and starting afresh would lose what
// overflowed since the last read. It reports whether listeners were
// forgotten.
func (w *Watcher) forget(discovered map[uint32]string) bool {
	forgot := false
	for ino, st := range w.ns {
		if _, ok := discovered[ino]; !ok {
			if len(w.gone) >= maxNamespaces {
				clear(w.gone) // bounded: past it one seen again would count from zero
			}
			w.gone[st.cookie] = true
			forgot = forgot || len(st.listeners) > 0
			delete(w.ns, ino)
		}
	}
	if forgot {
		w.version++
	}
	w.handles.closeUndiscovered(discovered)
	for ino := range w.atStart {
		if _, ok := discovered[ino]; !ok {
			delete(w.atStart, ino)
		}
	}
	return forgot
}

// errGone: the namespace's path no longer leads to it (its process exited).
var errGone = errors.New("listeners: namespace gone")

// errNotHere: the calling thread is not in the namespace to read.
var errNotHere = errors.New("listeners: not in that namespace")

// selfProcessNetns is the inode of the process's own network namespace:
// the calling thread's. Not /proc/self/ns/net: that is the thread-group
// leader's, which another goroutine of this process may have moved into
// another namespace for a moment (netns.Do); taken for the Watcher's own,
// that namespace would be read from a thread outside it and its counters
// restarted from the wrong baseline.
func selfProcessNetns() uint32 {
	var ino uint32
	_ = lockedDo(func() (err error) {
		ino, err = netns.ThreadInode()
		return err
	})
	return ino
}
