// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"sync"
	"sync/atomic"
	"time"
)

// Owner is the process holding a socket.
type Owner struct {
	PID         int
	Comm        string // /proc/<pid>/comm: the name, at most 15 bytes
	CgroupPath  string // cgroup v2 path, as in /proc/<pid>/cgroup's "0::" line, from the host's cgroup root (see namespaceRoots)
	ContainerID string // 64 hex digits, or "" outside a container (see ContainerID)
	PodUID      string // the Kubernetes pod's uid, or "" outside a pod (see PodUID)
}

// Defaults of a Resolver.
const (
	// A miss rescans /proc at most this often...
	defaultMinInterval = 200 * time.Millisecond
	// ...and leaves at least costFactor times a scan's duration between two
	// scans, so that rescans take at most ~1/costFactor of a CPU however
	// large the host.
	costFactor = 10
	// A scan stops after this long; the next one resumes where it stopped.
	defaultScanBudget = time.Second
	// Sockets remembered: 1M sockets take about 40 MB.
	defaultMaxEntries = 1 << 20
)

// Resolver maps socket inodes to their owners. It is safe for concurrent
// use: lookups of known inodes take no lock.
type Resolver struct {
	procRoot    string
	minInterval time.Duration
	scanBudget  time.Duration
	maxEntries  int
	roots       cgroupRoots // this process's cgroup namespace, from the host's (nil: the host's own)
	rootsErr    error

	snap atomic.Pointer[snapshot]

	scanMu   sync.Mutex // serializes rescans; guards the fields below
	lastScan time.Time  // end of the last scan
	scanCost time.Duration
	next     int32 // pid the next scan starts at, after a scan cut short
	stats    Stats
}

// snapshot is an immutable result of scans: lookups read it without locks.
type snapshot struct {
	sockets map[uint64]int32
	procs   map[int32]*Owner
}

// Stats tells what a Resolver has done.
type Stats struct {
	Scans        uint64        // rescans of /proc so far
	Sockets      int           // socket inodes known
	LastScan     time.Duration // duration of the last rescan
	Partial      uint64        // rescans cut short by the time budget
	Capped       uint64        // rescans that found more sockets than the cache holds
	RateLimited  uint64        // misses answered without a rescan because one ran too recently
	LastComplete bool          // the last rescan reached every process
}

// NewResolver returns a Resolver reading procRoot ("/proc", or a fixture
// tree in tests). It scans nothing until the first Lookup. In a cgroup
// namespace of its own it learns the namespace's place in the host's
// hierarchy, to report cgroup paths as the host names them; see
// CgroupNamespaceErr.
func NewResolver(procRoot string) *Resolver {
	roots, err := namespaceRoots(procRoot)
	r := &Resolver{
		procRoot:    procRoot,
		roots:       roots,
		rootsErr:    err,
		minInterval: defaultMinInterval,
		scanBudget:  defaultScanBudget,
		maxEntries:  defaultMaxEntries,
	}
	r.snap.Store(&snapshot{})
	return r
}

// Lookup returns the owner of the socket with inode number inode. A known
// inode is answered from the cache. An unknown one triggers a rescan of
// /proc unless one ran recently (then the answer is false at once); a caller
// may thus wait for one rescan (bounded by a time budget, a second by
// default). Inode 0 (a socket with no file: a request or time-wait socket, or
// one already closed) has no owner.
//
// A cached answer can be stale: a socket closed since the last scan still
// resolves to its last owner until a rescan forgets it, and the process's
// name and cgroup are those read at that scan.
func (r *Resolver) Lookup(inode uint64) (Owner, bool) {
	if inode == 0 {
		return Owner{}, false
	}
	if o, ok := r.snap.Load().get(inode); ok {
		return o, true
	}
	r.scanMu.Lock()
	defer r.scanMu.Unlock()
	// Another caller may have rescanned while this one waited.
	if o, ok := r.snap.Load().get(inode); ok {
		return o, true
	}
	if !r.lastScan.IsZero() && time.Since(r.lastScan) < max(r.minInterval, costFactor*r.scanCost) {
		r.stats.RateLimited++
		return Owner{}, false
	}
	r.rescan()
	return r.snap.Load().get(inode)
}

// Cached returns the owner of the socket with inode number inode if the
// last scan found it, without ever scanning: for a caller that must not
// wait (Lookup may).
func (r *Resolver) Cached(inode uint64) (Owner, bool) {
	if inode == 0 {
		return Owner{}, false
	}
	return r.snap.Load().get(inode)
}

// CgroupNamespaceErr says why cgroup paths are relative to this process's
// cgroup namespace rather than the host's (nil: they are the host's). The
// container ids and pod uids in them are still found, except this
// container's own and its pod's for processes of that pod.
func (r *Resolver) CgroupNamespaceErr() error { return r.rootsErr }

// Stats returns counts of the Resolver's work.
func (r *Resolver) Stats() Stats {
	r.scanMu.Lock()
	defer r.scanMu.Unlock()
	s := r.stats
	s.Sockets = len(r.snap.Load().sockets)
	return s
}

func (s *snapshot) get(inode uint64) (Owner, bool) {
	pid, ok := s.sockets[inode]
	if !ok {
		return Owner{}, false
	}
	if p := s.procs[pid]; p != nil {
		return *p, true
	}
	return Owner{PID: int(pid)}, true
}

// rescan reads /proc and replaces the snapshot. Sockets that vanished are
// forgotten; after a scan cut short by the budget, what the previous
// snapshot knew of the processes not reached is kept.
func (r *Resolver) rescan() {
	start := time.Now()
	res := scanSockets(r.procRoot, r.next, start.Add(r.scanBudget), r.maxEntries)
	old := r.snap.Load()
	if !res.full {
		for ino, pid := range old.sockets {
			if res.visited[pid] || len(res.sockets) >= r.maxEntries {
				continue
			}
			if cur, ok := res.sockets[ino]; !ok || pid < cur {
				res.sockets[ino] = pid
			}
		}
	}
	procs := make(map[int32]*Owner)
	buf := make([]byte, 16<<10)
	for _, pid := range res.sockets {
		if _, ok := procs[pid]; ok {
			continue
		}
		if !res.visited[pid] && old.procs[pid] != nil {
			procs[pid] = old.procs[pid] // not reached this time: keep what was read
			continue
		}
		o := readProcess(r.procRoot, r.roots, pid, buf)
		procs[pid] = &o
	}
	r.snap.Store(&snapshot{sockets: res.sockets, procs: procs})
	r.next = res.next
	r.lastScan = time.Now()
	r.scanCost = r.lastScan.Sub(start)
	r.stats.Scans++
	r.stats.LastScan = r.scanCost
	r.stats.LastComplete = res.full
	if !res.full {
		r.stats.Partial++
	}
	if res.capped {
		r.stats.Capped++
	}
}
