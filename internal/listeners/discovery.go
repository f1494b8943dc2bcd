// SPDX-License-Identifier: Apache-2.0

package listeners

import "time"

// discovery finds the network namespaces of the host at each Poll: those
// of processes, bind-mounted ones, and those held open by descriptors.
type discovery struct {
	procRoot string
	pids     pidNamespaces // the namespace of every process, as last looked at
	mounts   mountWatch    // bind-mounted namespaces, reread when the mount table changes

	fdNS       map[uint32]string // namespaces found held open by descriptors
	fdHolders  []int32           // the processes that held them at the last scan
	lastScan   time.Time         // of every process's descriptors
	scanCost   time.Duration     // likewise
	lastRescan time.Time         // of the fdHolders' alone
	rescanCost time.Duration     // likewise
}

// Descriptor scans for namespaces cost one readlink per open file on the
// host: run one at most every fdScanFloor, and at most 1/fdScanShare of the
// time (a scan of 30 ms, as on a busy 2-core machine, every 30 s). In
// between, the Polls rescan only the processes that held a namespace
// descriptor at the last scan (not the descriptors of the Watcher's own
// namespace handles, which would make the collector one), themselves at
// most 1/fdScanShare of the time: a runtime holding a few namespaces it is
// setting up at every Poll, hundreds of processes holding namespaces and
// thousands of sockets every few seconds. A namespace held only by a
// descriptor is rare (`ip netns` mounts its namespaces, a container has a
// process in its); found late, its overflows still count from its creation
// (Poll).
const (
	fdScanFloor = time.Second
	fdScanShare = 1000
)

func newDiscovery(procRoot string) discovery {
	return discovery{procRoot: procRoot, mounts: mountWatch{fd: -1}}
}

// find returns a path for each network namespace: those of processes
// (the processes new since the last find, or all of them with all),
// bind-mounted ones (when the mount table changed), and those held by
// descriptors (rescanned now and then, remembered in between while their
// path still leads there). ownFD tells which descriptors of this process
// to skip (may be nil).
func (d *discovery) find(all bool, ownFD func(fd int) bool) map[uint32]string {
	paths := map[uint32]string{}
	d.pids.find(d.procRoot, paths, all)
	d.mounts.find(d.procRoot, paths)
	found := map[uint32]string{}
	switch now := time.Now(); {
	case now.Sub(d.lastScan) >= max(fdScanFloor, fdScanShare*d.scanCost):
		d.fdHolders = fdNamespaces(d.procRoot, d.pids.list, found, ownFD)
		d.lastScan, d.scanCost = time.Now(), time.Since(now)
		d.lastRescan, d.rescanCost = d.lastScan, 0
		d.fdNS = found
	case now.Sub(d.lastRescan) >= fdScanShare*d.rescanCost:
		d.fdHolders = fdNamespaces(d.procRoot, d.fdHolders, found, ownFD)
		d.lastRescan, d.rescanCost = time.Now(), time.Since(now)
		d.fdNS = found
	}
	for ino, p := range d.fdNS {
		if _, ok := paths[ino]; !ok {
			paths[ino] = p
		}
	}
	return paths
}

// close releases the mount table the discovery keeps open.
func (d *discovery) close() { d.mounts.close() }
