// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"sync"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// CountKey is what a count of drops is kept by: every attribute of the
// drops metric. The receiver sums over the ones its configuration leaves
// out.
type CountKey struct {
	Kind     probe.Kind // a drop's key or a reset's
	Owner               // the socket's owner when the drops were added
	Reason   string
	Function string // "" for listen-queue overflows
	State    string // the socket's TCP state (probe.TCPState.String); "" without one
}

// Count is the number of TCP packets dropped with one key since Start.
type Count struct {
	CountKey
	Packets uint64
	// Start is when the series began: zero for one counted since the
	// engine started, else the collection before its first drop (a series
	// that expired and came back starts again from zero).
	Start time.Time
}

// Counts are cumulative: the kernel's exact counts since the program was
// loaded, with the listen-queue overflows the watcher found (reason
// TCP_LISTEN_OVERFLOW), and the kernel's counts of what it could not
// count or send (see probe.Counts). Repeats are not: they are this
// collection's, the interval's repeats by key (Repeated sums them all).
type Counts struct {
	ByKey                                             []Count
	Uncounted, Lost, Shed, Filtered, Repeated, Missed uint64
	Repeats                                           []Repeat
	// Delay is how long after the collection was due the kernel's counts
	// were taken: a collection held up shows here, not as a stale point.
	Delay time.Duration
}

// Tally keeps the cumulative counts: it adds each batch of counts the
// kernel hands over (probe.Probe.TakeCounts, which empties the kernel's
// map) and the listen-queue overflows to totals by CountKey. A socket's
// drops are keyed by its owner when they are added, so a count never moves
// to another key (a cumulative sum must not go down) when its socket
// closes and its owner is forgotten. A series that did not grow for the
// expiry is dropped (its owner is likely gone): the totals hold only the
// series that changed within it. Safe for concurrent use.
type Tally struct {
	names  Names
	owners Owners        // nil: owners are not resolved
	expiry time.Duration // 0: series never expire

	mu sync.Mutex
	// The owners found for the sockets of this Add and of the previous
	// one, so that /proc is not scanned again for a socket that keeps
	// dropping. A socket that did not drop in a whole collection is
	// forgotten: the two hold at most the keys of two collections, which
	// the kernel's map bounds (max_counters), however many sockets come
	// and go.
	byInode, prevByInode map[uint64]Owner
	totals               map[CountKey]*series
	lastAdd              time.Time // of the previous Add; zero before the first
}

// series is one key's cumulative count.
type series struct {
	packets uint64
	start   time.Time // see Count.Start
	changed time.Time // when it last grew
}

// NewTally returns a Tally that names with names, finds owners with owners
// (nil: not resolved) and drops a series that did not grow for expiry (0:
// never).
func NewTally(names Names, owners Owners, expiry time.Duration) *Tally {
	return &Tally{names: names, owners: owners, expiry: expiry, byInode: map[uint64]Owner{}, prevByInode: map[uint64]Owner{}, totals: map[CountKey]*series{}}
}

// AddOverflows counts n listen-queue overflows of a listener of owner's.
func (t *Tally) AddOverflows(owner Owner, n uint64) {
	k := CountKey{Owner: owner, Reason: ListenOverflowReason, State: "listen"}
	t.mu.Lock()
	t.grow(k, n, time.Now())
	t.mu.Unlock()
}

// grow adds n to k's series, which begins if there is none.
func (t *Tally) grow(k CountKey, n uint64, now time.Time) {
	s := t.totals[k]
	if s == nil {
		s = &series{start: t.lastAdd}
		t.totals[k] = s
	}
	s.packets += n
	s.changed = now
}

// Add adds the counts c the kernel handed over since the last Add, keyed by
// owner, reason and function, drops the series that have not grown for the
// expiry, and returns the totals at now. It may wait for a scan of /proc
// for a socket it has not seen.
func (t *Tally) Add(c probe.Counts, now time.Time) Counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	taken := time.Now() // after the counts were taken: every socket in them existed before
	out := Counts{Uncounted: c.Uncounted, Lost: c.Lost, Shed: c.Shed, Filtered: c.Filtered, Repeated: c.Repeated, Missed: c.Missed,
		ByKey: make([]Count, 0, len(t.totals))}
	for _, kc := range c.ByKey {
		owner := t.owner(kc.SocketInode, taken)
		reason, function, state := t.names.Reason(kc.Kind, kc.Reason, kc.HasReason), t.names.Function(kc.Location), kc.State.String()
		t.grow(CountKey{Kind: kc.Kind, Owner: owner, Reason: reason, Function: function, State: state}, kc.Packets, now)
		if kc.Repeats > 0 {
			out.Repeats = append(out.Repeats, Repeat{Kind: kc.Kind, Owner: owner, SocketInode: kc.SocketInode, Reason: reason, Function: function,
				Location: t.names.Location(kc.Location), State: state, Repeats: kc.Repeats, Since: t.lastAdd, Until: now})
		}
	}
	for k, s := range t.totals {
		if t.expiry > 0 && now.Sub(s.changed) >= t.expiry {
			delete(t.totals, k)
			continue
		}
		out.ByKey = append(out.ByKey, Count{CountKey: k, Packets: s.packets, Start: s.start})
	}
	t.lastAdd = now
	t.byInode, t.prevByInode = t.prevByInode, t.byInode
	clear(t.byInode)
	return out
}

// owner is the first owner found for the socket, known to exist at seen,
// while it keeps dropping.
func (t *Tally) owner(inode uint64, seen time.Time) Owner {
	o, ok := t.byInode[inode]
	if ok {
		return o
	}
	if o, ok = t.prevByInode[inode]; !ok {
		o = FindOwner(t.owners, inode, seen)
	}
	t.byInode[inode] = o
	return o
}
