// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"sync"
	"time"
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
// overflows, or where it is new to the Watcher, or where its Mode asks.
// Each namespace is entered once: the Watcher keeps its files and a
// sock_diag socket open (handleSet).
type Watcher struct {
	closed   ClosedSource
	existing map[uint32]bool // the namespaces there at the start mark (MarkStart); nil: the first Poll is the start

	mu        sync.Mutex
	polls     uint64
	discovery discovery
	handles   handleSet
	ns        map[uint32]*nsState
	atStart   map[uint32]bool // namespaces discovered by the first Poll and not read since
	gone      map[uint64]bool // cookies of namespaces forgotten: seen again, they take a baseline
	last      []Listener      // every namespace's listeners as last dumped
	version   uint64          // grows when the set of listening sockets changes
	stats     Stats
	scratch   scratch
}

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
	return &Watcher{
		closed:    closed,
		existing:  markedStart(),
		discovery: newDiscovery(procRoot),
		handles:   newHandleSet(),
		ns:        map[uint32]*nsState{},
		gone:      map[uint64]bool{},
	}
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

// Close closes the namespaces the Watcher holds open. A Poll after Close
// opens them again.
func (w *Watcher) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handles.closeAll()
	w.discovery.close()
}
