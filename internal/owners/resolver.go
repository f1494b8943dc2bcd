// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"sync"
	"sync/atomic"
	"time"
)

// Process is the process holding a socket: its owner.
type Process struct {
	PID         int
	Comm        string // /proc/<pid>/comm: the name, at most 15 bytes
	CgroupPath  string // cgroup v2 path, as in /proc/<pid>/cgroup's "0::" line, from the host's cgroup root (see namespaceRoots)
	ContainerID string // 64 hex digits, or "" outside a container (see ContainerID)
	PodUID      string // the Kubernetes pod's uid, or "" outside a pod (see PodUID)
}

// Defaults of a Resolver.
const (
	// A lookup waits at most this long for the scan budget (budget.go);
	// past that it answers "not found" at once.
	maxBudgetWait = 200 * time.Millisecond
	// A scan of /proc stops after this long; the next one resumes where it
	// stopped. (The kernel's iterator is not cut short.)
	maxScanTime = time.Second
	// Sockets remembered: 1M sockets take about 40 MB.
	defaultMaxEntries = 1 << 20
)

// Resolver maps socket inodes to their owners. It is safe for concurrent
// use: lookups of known inodes take no lock.
type Resolver struct {
	procRoot   string
	maxEntries int
	scanLimit  time.Duration // maxScanTime; tests shorten it
	roots      cgroupRoots   // this process's cgroup namespace, from the host's (nil: the host's own)
	rootsErr   error

	snap atomic.Pointer[snapshot]

	scanMu    sync.Mutex     // serializes scans; guards the fields below
	kernel    *kernelScanner // nil: scans read /proc
	births    Births         // nil: sockets no scan finds have no owner
	fromBirth atomic.Uint64  // lookups answered by births (Stats.FromBirths)
	budget    budget
	misses    misses    // sockets not found, and when to look again
	lastStart time.Time // start of the last scan that reached every process
	next      int32     // pid the next /proc scan starts at, after one cut short
	stats     Stats
}

// snapshot is an immutable result of scans: lookups read it without locks.
type snapshot struct {
	sockets map[uint64]int32
	procs   map[int32]*Process
}

// Stats tells what a Resolver has done, and what it cost.
type Stats struct {
	Kernel       bool          // scans use the kernel's iterator, not /proc (UseKernel)
	Scans        uint64        // scans so far
	ScanTime     time.Duration // their total duration: the resolver's cost
	LastScan     time.Duration // duration of the last scan
	LongestScan  time.Duration // of the longest
	Sockets      int           // socket inodes known
	Misses       int           // sockets remembered as not found (misses.go)
	Remembered   uint64        // lookups answered "not found" from those, without a scan
	RateLimited  uint64        // lookups answered "not found" because the scan budget was spent
	Partial      uint64        // /proc scans cut short by maxScanTime
	Capped       uint64        // scans that found more sockets than the cache holds
	KernelErrors uint64        // kernel scans that failed (then /proc was read)
	LastComplete bool          // the last scan reached every process
	FromBirths   uint64        // lookups answered by who made the socket, no scan having found it (UseBirths)
}

// NewResolver returns a Resolver reading procRoot ("/proc", or a fixture
// tree in tests). It scans nothing until the first Lookup. In a cgroup
// namespace of its own it learns the namespace's place in the host's
// hierarchy, to report cgroup paths as the host names them; see
// CgroupNamespaceErr.
func NewResolver(procRoot string) *Resolver {
	roots, err := namespaceRoots(procRoot)
	r := &Resolver{
		procRoot:   procRoot,
		roots:      roots,
		rootsErr:   err,
		maxEntries: defaultMaxEntries,
		scanLimit:  maxScanTime,
		budget:     budget{share: scanShare, burst: scanBurst},
		misses:     misses{},
	}
	r.snap.Store(&snapshot{})
	return r
}

// UseKernel makes scans find sockets with an iterator over every open file
// in the kernel (bpf/owner_socks.c), some 7 times cheaper than reading
// /proc/<pid>/fd; names and cgroups are still read from /proc. procRoot
// must be the host's /proc. It needs CAP_BPF and CAP_PERFMON (or root),
// Linux 5.8+, and the host's pid namespace; where it fails, scans go on
// reading /proc. Close releases the iterator.
func (r *Resolver) UseKernel() error {
	k, err := openKernelScanner()
	if err != nil {
		return err
	}
	r.scanMu.Lock()
	defer r.scanMu.Unlock()
	if r.kernel != nil {
		r.kernel.close()
	}
	r.kernel = k
	return nil
}

// Close releases the kernel's iterator, if UseKernel took one; scans then
// read /proc.
func (r *Resolver) Close() error {
	r.scanMu.Lock()
	defer r.scanMu.Unlock()
	if r.kernel != nil {
		r.kernel.close()
		r.kernel = nil
	}
	return nil
}

// Lookup returns the owner of the socket with inode number inode, which
// was known to exist at seen (its drop was read, or its listener listed,
// then). Inode 0 (a socket with no file: a request or time-wait socket, or
// one already closed) has no owner.
//
// A known inode is answered from the cache. An unknown one needs a scan
// that started after seen: one that already ran answers it; otherwise the
// lookup scans, after waiting up to maxBudgetWait for the scan budget (past
// that it answers "not found" at once). A socket that such a scan did not
// find is remembered, and not looked for again before its backoff ends
// (misses.go). So a lookup may wait for the budget and one scan (at most a
// second on /proc).
//
// A cached answer can be stale: a socket closed since the last scan still
// resolves to its last owner until a scan forgets it, and the process's
// name and cgroup are those read at that scan.
func (r *Resolver) Lookup(inode uint64, seen time.Time) (Process, bool) {
	if inode == 0 {
		return Process{}, false
	}
	if o, ok := r.snap.Load().get(inode); ok {
		return o, true
	}
	r.scanMu.Lock()
	defer r.scanMu.Unlock()
	// Another caller may have scanned while this one waited.
	if o, ok := r.snap.Load().get(inode); ok {
		return o, true
	}
	now := time.Now()
	if m, ok := r.misses[inode]; ok {
		if now.Before(m.retry) {
			r.stats.Remembered++
			return r.born(inode)
		}
		seen = m.retry // due again: a scan from now on answers
	}
	if r.lastStart.After(seen) {
		r.misses.add(inode, now) // a scan that could have found it did not
		return r.born(inode)
	}
	wait := r.budget.wait(now)
	if wait > maxBudgetWait {
		r.stats.RateLimited++
		return r.born(inode)
	}
	time.Sleep(wait)
	if !r.scan() {
		return r.born(inode)
	}
	if o, ok := r.snap.Load().get(inode); ok {
		return o, true
	}
	r.misses.add(inode, time.Now())
	return r.born(inode)
}

// Cached returns the owner of the socket with inode number inode if the
// last scan found it, without ever scanning: for a caller that must not
// wait (Lookup may).
func (r *Resolver) Cached(inode uint64) (Process, bool) {
	if inode == 0 {
		return Process{}, false
	}
	if o, ok := r.snap.Load().get(inode); ok {
		return o, true
	}
	return r.born(inode)
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
	s.Kernel = r.kernel != nil
	s.Sockets = len(r.snap.Load().sockets)
	s.Misses = len(r.misses)
	s.FromBirths = r.fromBirth.Load()
	return s
}

func (s *snapshot) get(inode uint64) (Process, bool) {
	pid, ok := s.sockets[inode]
	if !ok {
		return Process{}, false
	}
	if p := s.procs[pid]; p != nil {
		return *p, true
	}
	return Process{PID: int(pid)}, true
}

// scan finds the sockets, from the kernel or from /proc, and replaces the
// snapshot; it returns whether every process was reached. Sockets that
// vanished are forgotten; after a /proc scan cut short by maxScanTime, what
// the previous snapshot knew of the processes not reached is kept.
func (r *Resolver) scan() bool {
	start := time.Now()
	res := r.findSockets(start)
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
	procs := make(map[int32]*Process)
	buf := make([]byte, 16<<10)
	for _, pid := range res.sockets {
		if _, ok := procs[pid]; ok {
			continue
		}
		if !res.full && !res.visited[pid] && old.procs[pid] != nil {
			procs[pid] = old.procs[pid] // not reached this time: keep what was read
			continue
		}
		o := readProcess(r.procRoot, r.roots, pid, buf)
		procs[pid] = &o
	}
	r.snap.Store(&snapshot{sockets: res.sockets, procs: procs})
	end := time.Now()
	cost := end.Sub(start)
	r.budget.spend(cost, end)
	r.misses.prune(res.sockets, end)
	r.next = res.next
	if res.full {
		r.lastStart = start
	}
	r.stats.Scans++
	r.stats.ScanTime += cost
	r.stats.LastScan = cost
	r.stats.LongestScan = max(r.stats.LongestScan, cost)
	r.stats.LastComplete = res.full
	if !res.full {
		r.stats.Partial++
	}
	if res.capped {
		r.stats.Capped++
	}
	return res.full
}

// findSockets asks the kernel's iterator, or reads /proc (also when the
// iterator fails).
func (r *Resolver) findSockets(start time.Time) scanResult {
	if r.kernel != nil {
		res, err := r.kernel.scan(r.maxEntries)
		if err == nil {
			return res
		}
		r.stats.KernelErrors++
	}
	return scanSockets(r.procRoot, r.next, start.Add(r.scanLimit), r.maxEntries)
}
