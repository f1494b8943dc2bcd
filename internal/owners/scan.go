// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"bytes"
	"os"
	"sort"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// scanResult maps socket inodes to the lowest pid holding them, for the
// processes a scan reached.
type scanResult struct {
	sockets map[uint64]int32
	visited map[int32]bool // pids whose descriptors were read
	next    int32          // first pid not reached when the budget ran out; 0 if complete
	full    bool           // the scan reached every process
	capped  bool           // maxEntries was hit: some sockets are missing
}

// scanSockets reads the descriptors of the processes under procRoot, starting
// at pid from (wrapping around), until all are read, the deadline passes, or
// maxEntries sockets are found.
func scanSockets(procRoot string, from int32, deadline time.Time, maxEntries int) scanResult {
	res := scanResult{sockets: map[uint64]int32{}, visited: map[int32]bool{}, full: true}
	pids := procfs.PIDs(procRoot)
	start := sort.Search(len(pids), func(i int) bool { return pids[i] >= from })
	for k := range pids {
		pid := pids[(start+k)%len(pids)]
		if time.Now().After(deadline) {
			res.next, res.full = pid, false
			return res
		}
		res.visited[pid] = true
		// A process that exited, or is not ours to read, lists nothing.
		procfs.ForEachFD(procRoot, pid, func(_ string, target []byte) {
			ino, ok := procfs.LinkInode(target, "socket")
			if !ok {
				return
			}
			if old, ok := res.sockets[ino]; ok {
				res.sockets[ino] = min(old, pid)
				return
			}
			if len(res.sockets) >= maxEntries {
				res.capped = true
				return
			}
			res.sockets[ino] = pid
		})
	}
	return res
}

// readProcess reads the name and cgroup of pid, using buf for the files;
// roots rebases cgroup paths (see namespaceRoots).
// Files that cannot be read (the process exited) leave their fields empty.
func readProcess(procRoot string, roots cgroupRoots, pid int32, buf []byte) Process {
	o := Process{PID: int(pid)}
	dir := procfs.PIDDir(procRoot, pid)
	if b, err := readSmall(dir+"/comm", buf); err == nil {
		o.Comm = string(bytes.TrimRight(b, "\n"))
	}
	if b, err := readSmall(dir+"/cgroup", buf); err == nil {
		cg := parseCgroup(b, roots)
		o.CgroupPath, o.ContainerID, o.PodUID = cg.Path, cg.ContainerID, cg.PodUID
	}
	return o
}

// readSmall reads the start of a file into buf (one read: procfs returns a
// small file whole): a hostile or broken /proc cannot make a scan allocate
// without bound.
func readSmall(path string, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := f.Read(buf)
	if n > 0 {
		return buf[:n], nil
	}
	return nil, err
}
