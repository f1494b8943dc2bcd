// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

	// Estimated is set when the namespace's growth could not be pinned on
	// this listener alone: several listeners grew in the same interval and
	// the counters were split by NewDrops, or none grew and the growth went
	// to the listener(s) that grew last. A zero Cookie and Inode mean the
	// growth went to no listener at all (it closed).
	Estimated bool
}

// Stats describes the work of the last Poll.
type Stats struct {
	Namespaces     int           // network namespaces read
	Listeners      int           // listening sockets seen (as last read, for a namespace that could not be read)
	Duration       time.Duration // of the whole Poll
	FDScanDuration time.Duration // of the last scan of /proc/*/fd for namespace descriptors
}

// Watcher polls the listening TCP sockets of every network namespace on the
// host and reports their listen-queue overflows. It is safe for concurrent
// use; Polls are serialized.
type Watcher struct {
	procRoot string

	mu       sync.Mutex
	polls    uint64
	ns       map[uint32]*nsState
	atStart  map[uint32]bool   // namespaces discovered by the first Poll and not read since
	gone     map[uint64]bool   // cookies of namespaces forgotten: seen again, they take a baseline
	fdNS     map[uint32]string // namespaces found held open by descriptors
	lastScan time.Time
	scanCost time.Duration
	last     []Listener
	stats    Stats
	scratch  scratch
}

// nsState is what a Watcher remembers of one namespace between Polls.
type nsState struct {
	cookie    uint64
	counters  nsCounters
	drops     map[uint64]uint32 // socket cookie -> last sk_drops (32 bits on the wire)
	lastGrown map[uint64]uint64 // socket cookie -> NewDrops, of the last Poll where any listener grew
}

// Descriptor scans for namespaces cost one readlink per open file on the
// host: run one at most every fdScanMin, and at most fdScanShare of the time.
const (
	fdScanMin   = time.Second
	fdScanShare = 50
)

// NewWatcher returns a Watcher that finds namespaces under procRoot
// ("/proc").
func NewWatcher(procRoot string) *Watcher {
	return &Watcher{procRoot: procRoot, ns: map[uint32]*nsState{}, fdNS: map[uint32]string{}, gone: map[uint64]bool{}}
}

// Poll reads every namespace's listeners and counters and returns the
// listeners whose drops grew since the previous Poll, and the namespaces
// whose ListenOverflows or ListenDrops grew. The first Poll only takes a
// baseline: the namespaces that existed at the start count from then. A
// namespace first seen later was created since (or was not to be found at
// the start): its counters, which the kernel starts at zero with the
// namespace, count from zero, so a server overloaded before the namespace's
// first Poll is counted in full. So does a listener first seen in a
// namespace already watched (it was created since).
// Namespaces that cannot be read are skipped and reported in the error; the
// overflows returned are valid even then.
func (w *Watcher) Poll() ([]Overflow, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	start := time.Now()
	w.polls++
	paths := w.discover()
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
	var out []Overflow
	listeners := w.last[:0:0]
	seen := make(map[uint32]bool, len(inodes))
	for _, ino := range inodes {
		var prev *nsCounters
		if st := w.ns[ino]; st != nil {
			prev = &st.counters
		}
		s, err := readNamespace(paths[ino], ino, ino == self, &w.scratch, prev)
		if err != nil {
			if !errors.Is(err, errGone) {
				errs = append(errs, fmt.Errorf("network namespace %d (%s): %w", ino, paths[ino], err))
			}
			// Still discovered (see forget): its listeners as last read.
			listeners = appendListenersOf(listeners, w.last, ino)
			continue
		}
		seen[ino] = true
		listeners = append(listeners, s.listeners...)
		out = w.update(s, out)
	}
	w.forget(paths)
	w.last = listeners
	w.stats = Stats{Namespaces: len(seen), Listeners: len(listeners), Duration: time.Since(start), FDScanDuration: w.scanCost}
	if len(errs) > 8 {
		errs = append(errs[:8], fmt.Errorf("and %d more", len(errs)-8))
	}
	return out, errors.Join(errs...)
}

// appendListenersOf appends the listeners of namespace netns in from to to.
func appendListenersOf(to, from []Listener, netns uint32) []Listener {
	for _, l := range from {
		if l.Netns == netns {
			to = append(to, l)
		}
	}
	return to
}

// forget drops the state of the namespaces that were not discovered: gone,
// so that a namespace reusing the inode starts afresh (from zero: it is new;
// the same namespace seen again, by its cookie, takes a baseline). A namespace that was
// discovered but could not be read keeps its state (and Poll its
// listeners), and its growth is counted at the next read: its path can lead elsewhere by the time it is
// opened (a thread that entered the namespace for a moment and left), and
// starting afresh would lose what overflowed since the last read.
func (w *Watcher) forget(discovered map[uint32]string) {
	for ino, st := range w.ns {
		if _, ok := discovered[ino]; !ok {
			if len(w.gone) >= maxNamespaces {
				clear(w.gone) // bounded: past it one seen again would count from zero
			}
			w.gone[st.cookie] = true
			delete(w.ns, ino)
		}
	}
	for ino := range w.atStart {
		if _, ok := discovered[ino]; !ok {
			delete(w.atStart, ino)
		}
	}
}

// Listeners returns the listeners the last Poll saw, with their queue fill.
func (w *Watcher) Listeners() []Listener {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Listener(nil), w.last...)
}

// Stats returns the cost of the last Poll.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// discover returns a path for each network namespace: those of processes
// (every Poll), bind-mounted ones, and those held by descriptors (rescanned
// now and then, remembered in between while their path still leads there).
func (w *Watcher) discover() map[uint32]string {
	paths := map[uint32]string{}
	processNamespaces(w.procRoot, paths)
	if b, err := os.ReadFile(filepath.Join(w.procRoot, "self", "mountinfo")); err == nil {
		mountNamespaces(b, paths)
	}
	if wait := max(fdScanMin, fdScanShare*w.scanCost); w.polls == 1 || time.Since(w.lastScan) >= wait {
		t := time.Now()
		found := map[uint32]string{}
		fdNamespaces(w.procRoot, found)
		w.fdNS = found
		w.lastScan, w.scanCost = time.Now(), time.Since(t)
	} else {
		for ino, p := range w.fdNS {
			if got, err := netns.Inode(p); err != nil || got != ino {
				delete(w.fdNS, ino) // the descriptor was closed or reused
			}
		}
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

// readNamespace opens path, checks it is still namespace ino, and reads its
// snapshot; own is set for the Watcher's own namespace, read without setns
// (which needs CAP_SYS_ADMIN) once the thread doing it is seen to be there.
func readNamespace(path string, ino uint32, own bool, sc *scratch, prev *nsCounters) (snapshot, error) {
	if own {
		var s snapshot
		err := lockedDo(func() error {
			if cur, err := netns.ThreadInode(); err != nil || cur != ino {
				return errNotHere
			}
			var err error
			s, err = readSnapshot(ino, sc, prev)
			return err
		})
		if !errors.Is(err, errNotHere) {
			return s, err
		}
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return snapshot{}, errGone
	}
	defer unix.Close(fd)
	if got, err := netns.FDInode(fd); err != nil || got != ino {
		return snapshot{}, errGone
	}
	var s snapshot
	err = netns.Go(fd, func() error {
		var err error
		s, err = readSnapshot(ino, sc, prev)
		return err
	})
	return s, err
}

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

// update folds one namespace's snapshot into the Watcher's state and appends
// what grew to out.
func (w *Watcher) update(s snapshot, out []Overflow) []Overflow {
	st, ok := w.ns[s.netns]
	existed := w.atStart[s.netns] || w.gone[s.cookie]
	delete(w.atStart, s.netns)
	delete(w.gone, s.cookie)
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
	return append(out, grown...)
}

// give splits the namespace's growth among grown by weights.
func give(grown []Overflow, dOver, dDrops uint64, weights []uint64, estimated bool) {
	o, d := split(dOver, weights), split(dDrops, weights)
	for i := range grown {
		grown[i].Overflows, grown[i].ListenDrops, grown[i].Estimated = o[i], d[i], estimated
	}
}

func newState(s snapshot) *nsState {
	return &nsState{cookie: s.cookie, counters: s.counters, drops: dropsOf(s.listeners)}
}

func dropsOf(ls []Listener) map[uint64]uint32 {
	m := make(map[uint64]uint32, len(ls))
	for _, l := range ls {
		m[l.Cookie] = uint32(l.Drops)
	}
	return m
}
