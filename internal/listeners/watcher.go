// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/internal/netns"
)

// Overflow is a listener whose drops grew since the previous Poll, with its
// share of its namespace's listen-queue counters.
type Overflow struct {
	Listener

	// NewDrops is the growth of the socket's sk_drops. It counts more than
	// overflows (see the package doc): use Overflows for those.
	NewDrops uint64

	// Overflows is this listener's share of the growth of its namespace's
	// TcpExt:ListenOverflows: SYNs and handshake-completing ACKs refused
	// because the accept queue was full. Summed over a namespace the shares
	// equal the kernel's counter exactly.
	Overflows uint64

	// ListenDrops is the same for TcpExt:ListenDrops (every SYN or ACK a
	// listener dropped, the overflows included).
	ListenDrops uint64

	// Closed is set for a listener that had stopped listening by this
	// Poll: its share is of the overflows of its last moments, measured by
	// the drop count the kernel kept as it stopped (ClosedSource).
	Closed bool

	// Estimated is set when the namespace's growth could not be pinned on
	// this listener alone: several listeners grew in the same interval and
	// the counters were split by NewDrops, or none grew and the growth went
	// to the listener(s) that grew last. A zero Cookie and Inode mean the
	// growth went to no listener at all (it closed).
	Estimated bool
}

// Stats describes the work of the last Poll.
type Stats struct {
	Namespaces     int           // network namespaces read (their device counters, /proc/net/dev)
	Counted        int           // of them, whose overflow counters were read (/proc/net/netstat): their devices had moved
	Dumped         int           // of them, whose listeners were dumped (sock_diag): their counters had moved
	Listeners      int           // listening sockets known (as last dumped)
	Duration       time.Duration // of the whole Poll
	FDScanDuration time.Duration // of the last scan of /proc/*/fd for namespace descriptors
}

// Watcher polls the listening TCP sockets of every network namespace on the
// host and reports their listen-queue overflows. It is safe for concurrent
// use; Polls are serialized.
//
// A Poll reads every namespace's device counters (/proc/net/dev, a few
// µs), its overflow counters (/proc/net/netstat, about 50 µs) only where
// the devices moved (a packet came), and dumps its listeners (sock_diag,
// the dear part) only where the overflow counters moved, to attribute the
// overflows, or where it is new to the Watcher; PollAll reads and dumps
// them all, for the queue gauges. Each namespace is entered once: the
// Watcher keeps its files and a sock_diag socket open (nsHandle).
type Watcher struct {
	procRoot string
	closed   ClosedSource
	existing map[uint32]bool // the namespaces there at the start mark (MarkStart); nil: the first Poll is the start

	mu         sync.Mutex
	polls      uint64
	ns         map[uint32]*nsState
	handles    map[uint32]*nsHandle
	handleFDs  map[int]bool      // the descriptors of handles, for scans of this process (isHandleFD)
	maxHandles int               // handles kept open at most; past it a namespace is entered at each read
	atStart    map[uint32]bool   // namespaces discovered by the first Poll and not read since
	gone       map[uint64]bool   // cookies of namespaces forgotten: seen again, they take a baseline
	pids       pidNamespaces     // the namespace of every process, as last looked at
	mounts     mountWatch        // bind-mounted namespaces, reread when the mount table changes
	fdNS       map[uint32]string // namespaces found held open by descriptors
	fdHolders  []int32           // the processes that held them at the last scan
	lastScan   time.Time
	scanCost   time.Duration
	lastRescan time.Time     // of the fdHolders alone
	rescanCost time.Duration // likewise
	last       []Listener
	version    uint64 // grows when the set of listening sockets changes
	counted    int    // namespaces whose netstat the Poll in progress read
	stats      Stats
	scratch    scratch
}

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

// Descriptor scans for namespaces cost one readlink per open file on the
// host: run one at most every fdScanMin, and at most 1/fdScanShare of the
// time (a scan of 30 ms, as on a busy 2-core machine, every 30 s). In
// between, the Polls rescan only the processes that held a namespace
// descriptor at the last scan (not the descriptors of the Watcher's own
// namespace handles, which would make the collector one), themselves at
// most 1/fdScanShare of the time: a test process holding a few sandboxes
// at every Poll, hundreds of processes holding namespaces and thousands of
// sockets every few seconds. A namespace held only by a descriptor is rare
// (`ip netns` mounts its namespaces, a container has a process in its);
// found late, its overflows still count from its creation (Poll).
const (
	fdScanMin   = time.Second
	fdScanShare = 1000
)

// ClosedSource returns the listeners that stopped listening since it was
// last called, as the kernel saw them stop (Netns, Inode, Cookie, and in
// Drops their final sk_drops; their port may be released by then):
// probe.Probe.TakeClosedListeners.
type ClosedSource func() ([]Listener, error)

// NewWatcher returns a Watcher that finds namespaces under procRoot
// ("/proc"). closed, if not nil, tells it of listeners that stopped
// listening: their last overflows are then theirs, not no one's. The
// namespaces created since the last MarkStart count from their creation.
func NewWatcher(procRoot string, closed ClosedSource) *Watcher {
	return &Watcher{procRoot: procRoot, closed: closed, existing: markedStart(), ns: map[uint32]*nsState{}, handles: map[uint32]*nsHandle{},
		maxHandles: handleBudget(), fdNS: map[uint32]string{}, gone: map[uint64]bool{}, mounts: mountWatch{fd: -1}}
}

// handleBudget is how many namespace handles (three descriptors each) a
// Watcher keeps open: a quarter of the descriptor limit, at most
// maxNamespaces.
func handleBudget() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return int(min(lim.Cur/12, maxNamespaces))
}

// Poll reads every namespace's counters and returns the listeners whose
// drops grew since the previous Poll, and the namespaces whose
// ListenOverflows or ListenDrops grew. It dumps the listeners of a
// namespace only when its counters moved or it is new to the Watcher, so
// the queue fill of the others (Listeners) is as of their last dump. The
// first Poll only takes a baseline: the namespaces that existed at the
// start count from then. A namespace first seen later was created since
// (or was not to be found at the start): its counters, which the kernel
// starts at zero with the namespace, count from zero, so a server
// overloaded before the namespace's first Poll is counted in full. So does
// a listener first seen in a namespace already watched (it was created
// since). Namespaces that cannot be read are skipped and reported in the
// error; the overflows returned are valid even then.
func (w *Watcher) Poll() ([]Overflow, error) { return w.poll(pollMode{}) }

// PollAll is Poll, dumping every namespace's listeners: their queue fill
// is then current, and processes that changed namespace are seen.
func (w *Watcher) PollAll() ([]Overflow, error) { return w.poll(pollMode{all: true}) }

// Refresh is Poll, dumping also the listeners of every namespace where they
// may have changed since its last dump: its devices moved (a packet can
// fill a queue), a queue was not empty (accept() empties it without a
// packet), or changed names it (sockets started or stopped listening
// there: probe.Probe.ListenersChangedIn). Every queue's fill is then as
// current as after PollAll, and processes that changed namespace are seen,
// without a dump of the quiet namespaces: on an idle host, none. Only a
// second listen() on a listening socket, which changes its queue's limit
// and nothing else, is seen no sooner than its namespace's next dump.
func (w *Watcher) Refresh(changed map[uint32]bool) ([]Overflow, error) {
	return w.poll(pollMode{refresh: true, changed: changed})
}

// pollMode says which namespaces a poll dumps besides those whose overflow
// counters moved or that are new to the Watcher.
type pollMode struct {
	all     bool            // every one
	refresh bool            // those that may have changed (Refresh)
	changed map[uint32]bool // for refresh: where sockets started or stopped listening
}

func (w *Watcher) poll(m pollMode) ([]Overflow, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	start := time.Now()
	w.polls++
	paths := w.discover(m.all || m.refresh)
	kept := w.keepListening(paths)
	inodes := make([]uint32, 0, len(paths))
	for ino := range paths {
		inodes = append(inodes, ino)
	}
	sort.Slice(inodes, func(a, b int) bool { return inodes[a] < inodes[b] })
	if w.polls == 1 {
		w.atStart = make(map[uint32]bool, len(inodes))
		for _, ino := range inodes {
			w.atStart[ino] = true
		}
	}
	var errs []error
	if len(inodes) > maxNamespaces {
		errs = append(errs, fmt.Errorf("listeners: %d network namespaces, reading the first %d", len(inodes), maxNamespaces))
		inodes = inodes[:maxNamespaces]
	}
	self := selfProcessNetns()
	read := 0
	w.counted = 0
	var snaps []snapshot
	for _, ino := range inodes {
		s, err := w.read(ino, paths[ino], ino == self, m.all || kept[ino], m)
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
	dumped := len(snaps)
	forgot := w.forget(paths)
	if dumped > 0 || forgot {
		w.last = w.listenersOfAll()
	}
	w.stats = Stats{Namespaces: read, Counted: w.counted, Dumped: dumped, Listeners: len(w.last), Duration: time.Since(start), FDScanDuration: w.scanCost}
	if len(errs) > 8 {
		errs = append(errs[:8], fmt.Errorf("and %d more", len(errs)-8))
	}
	return out, errors.Join(errs...)
}

// read reads namespace ino's counters and, if they moved, it is new, or
// dump or m asks for it, its snapshot; nil if it need not be dumped.
func (w *Watcher) read(ino uint32, path string, own, dump bool, m pollMode) (*snapshot, error) {
	h := w.handles[ino]
	if h == nil {
		var err error
		if h, err = openHandle(path, ino, own); err != nil {
			return nil, err
		}
		if len(w.handles) < w.maxHandles {
			w.handles[ino] = h
			w.handleFDs = nil
		} else {
			defer h.close()
		}
	}
	st := w.ns[ino]
	known := st != nil && st.cookie == h.cookie
	q, changed, err := h.quiet(&w.scratch)
	if err != nil {
		return nil, err
	}
	if known && changed {
		st.moved = true // until its next dump (update)
	}
	all := dump || (m.refresh && known && (st.moved || st.queued || m.changed[ino]))
	switch {
	case q && known && !all:
		return nil, nil
	case q && known:
		// No packet: the counters and every sk_drops are as last read;
		// only the queues' fill is wanted.
		s := snapshot{netns: ino, cookie: h.cookie, counters: st.counters}
		if len(w.scratch.recv) < recvBufSize {
			w.scratch.recv = make([]byte, recvBufSize)
		}
		return &s, s.dump(h.diag, w.scratch.recv)
	}
	w.counted++
	c, err := h.counters(&w.scratch)
	if err != nil {
		return nil, err
	}
	if known && !all && st.counters == c {
		return nil, nil
	}
	s, err := h.snapshot(&w.scratch, &c)
	return &s, err
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
	sort.Slice(inodes, func(a, b int) bool { return inodes[a] < inodes[b] })
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
// listeners), and its growth is counted at the next read: its path can lead elsewhere by the time it is
// opened (a thread that entered the namespace for a moment and left), and
// starting afresh would lose what overflowed since the last read. It
// reports whether listeners were forgotten.
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
	for ino, h := range w.handles {
		if _, ok := discovered[ino]; !ok {
			h.close()
			delete(w.handles, ino)
			w.handleFDs = nil
		}
	}
	for ino := range w.atStart {
		if _, ok := discovered[ino]; !ok {
			delete(w.atStart, ino)
		}
	}
	return forgot
}

// isHandleFD tells whether fd is one of the Watcher's namespace handles'
// (w.mu held).
func (w *Watcher) isHandleFD(fd int) bool {
	if w.handleFDs == nil {
		w.handleFDs = make(map[int]bool, 3*len(w.handles))
		for _, h := range w.handles {
			w.handleFDs[h.dev], w.handleFDs[h.netstat], w.handleFDs[h.diag.fd] = true, true, true
		}
	}
	return w.handleFDs[fd]
}

// Close closes the namespaces the Watcher holds open. A Poll after Close
// opens them again.
func (w *Watcher) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ino, h := range w.handles {
		h.close()
		delete(w.handles, ino)
	}
	w.handleFDs = nil
	w.mounts.close()
}

// Listeners returns the listeners the last Poll saw, with their queue fill
// (as of their namespace's last dump).
func (w *Watcher) Listeners() []Listener {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Listener(nil), w.last...)
}

// Version grows each time the set of listening sockets Listeners returns
// changes (not their queue fill).
func (w *Watcher) Version() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.version
}

// Stats returns the cost of the last Poll.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// discover returns a path for each network namespace: those of processes
// (new processes every Poll, all of them with all), bind-mounted ones
// (when the mount table changed), and those held by descriptors (rescanned
// now and then, remembered in between while their path still leads
// there).
func (w *Watcher) discover(all bool) map[uint32]string {
	paths := map[uint32]string{}
	w.pids.find(w.procRoot, paths, all)
	w.mounts.find(w.procRoot, paths)
	found := map[uint32]string{}
	switch now := time.Now(); {
	case w.polls == 1 || now.Sub(w.lastScan) >= max(fdScanMin, fdScanShare*w.scanCost):
		w.fdHolders = fdNamespaces(w.procRoot, w.pids.list, found, w.isHandleFD)
		w.lastScan, w.scanCost = time.Now(), time.Since(now)
		w.lastRescan, w.rescanCost = w.lastScan, 0
		w.fdNS = found
	case now.Sub(w.lastRescan) >= fdScanShare*w.rescanCost:
		w.fdHolders = fdNamespaces(w.procRoot, w.fdHolders, found, w.isHandleFD)
		w.lastRescan, w.rescanCost = time.Now(), time.Since(now)
		w.fdNS = found
	}
	for ino, p := range w.fdNS {
		if _, ok := paths[ino]; !ok {
			paths[ino] = p
		}
	}
	return paths
}

// errGone: the namespace's path no longer leads to it (its process exited).
var errGone = errors.New("listeners: namespace gone")

// errNotHere: the calling thread is not in the namespace to read.
var errNotHere = errors.New("listeners: not in that namespace")

// selfProcessNetns is the inode of the process's own network namespace:
// the calling thread's. Not /proc/self/ns/net: that is the thread-group
// leader's, which a goroutine in netns.Do (a test's sandbox.Do) may have
// switched into another namespace for a moment; taken for the Watcher's
// own, that namespace was read from a thread outside it, as the Watcher's
// namespace, and its counters restarted from the wrong baseline.
func selfProcessNetns() uint32 {
	var ino uint32
	_ = lockedDo(func() (err error) {
		ino, err = netns.ThreadInode()
		return err
	})
	return ino
}

// update folds one namespace's snapshot, and the listeners that stopped
// listening there since the last Poll (closed), into the Watcher's state
// and appends what grew to out.
func (w *Watcher) update(s snapshot, closed []Listener, out []Overflow) []Overflow {
	st, ok := w.ns[s.netns]
	existed := (w.atStart[s.netns] && !w.createdSinceStart(s.netns)) || w.gone[s.cookie]
	delete(w.atStart, s.netns)
	delete(w.gone, s.cookie)
	if !ok || !sameSockets(st.listeners, s.listeners) {
		w.version++
	}
	switch {
	case !ok && existed,
		ok && st.cookie == s.cookie && (s.counters.ListenOverflows < st.counters.ListenOverflows || s.counters.ListenDrops < st.counters.ListenDrops):
		// There at the start, or counted before it was lost from sight
		// (or counters that went back): baseline.
		w.ns[s.netns] = newState(s)
		return out
	case !ok || st.cookie != s.cookie:
		// Created since the start (or another namespace under a reused
		// inode): its counters and its sockets' began at zero.
		st = &nsState{cookie: s.cookie, drops: map[uint64]uint32{}}
		w.ns[s.netns] = st
	}
	dOver := s.counters.ListenOverflows - st.counters.ListenOverflows
	dDrops := s.counters.ListenDrops - st.counters.ListenDrops
	var grown []Overflow
	for _, l := range s.listeners {
		// sk_drops is 32 bits on the wire: the subtraction wraps with it.
		// A listener not seen before was created since: count from zero.
		d := uint64(uint32(l.Drops) - st.drops[l.Cookie])
		if d > 0 {
			grown = append(grown, Overflow{Listener: l, NewDrops: d})
		}
	}
	grown, closing := st.closedShares(s.listeners, closed, grown)
	switch {
	case len(grown) > 0:
		weights := make([]uint64, len(grown))
		for i, g := range grown {
			weights[i] = g.NewDrops
		}
		give(grown, dOver, dDrops, weights, len(grown) > 1 && dOver+dDrops > 0)
		st.lastGrown = map[uint64]uint64{}
		for _, g := range grown {
			st.lastGrown[g.Cookie] = g.NewDrops
		}
	case dOver > 0 || dDrops > 0:
		// Counted in the namespace, but no socket's sk_drops moved: the read
		// raced an overflow, or the listener closed. Give it to the listeners
		// that grew last, if they still listen.
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
	}
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
	return append(out, grown...)
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
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Cookie != b[i].Cookie || a[i].Addr != b[i].Addr || a[i].Inode != b[i].Inode || a[i].V6Only != b[i].V6Only {
			return false
		}
	}
	return true
}

// give splits the namespace's growth among grown by weights.
func give(grown []Overflow, dOver, dDrops uint64, weights []uint64, estimated bool) {
	o, d := split(dOver, weights), split(dDrops, weights)
	for i := range grown {
		grown[i].Overflows, grown[i].ListenDrops, grown[i].Estimated = o[i], d[i], estimated
	}
}

func newState(s snapshot) *nsState {
	return &nsState{cookie: s.cookie, counters: s.counters, listeners: s.listeners, drops: dropsOf(s.listeners),
		moved: s.interrupted, queued: anyQueued(s.listeners)}
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
