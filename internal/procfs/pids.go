// SPDX-License-Identifier: Apache-2.0

package procfs

import (
	"bytes"
	"os"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"
)

// Bounds on one walk.
const (
	MaxProcs      = 1 << 20 // processes listed
	MaxFDsPerProc = 1 << 20 // descriptors listed per process
)

// PIDs lists the processes under procRoot ("/proc", or a fixture tree),
// sorted, at most MaxProcs; none if procRoot cannot be read.
func PIDs(procRoot string) []int32 {
	d, err := os.Open(procRoot)
	if err != nil {
		return nil
	}
	defer d.Close()
	var pids []int32
	for len(pids) < MaxProcs {
		names, err := d.Readdirnames(1024)
		for _, n := range names {
			if v, err := strconv.ParseUint(n, 10, 31); err == nil && v > 0 && len(pids) < MaxProcs {
				pids = append(pids, int32(v))
			}
		}
		if err != nil {
			break
		}
	}
	sort.Slice(pids, func(a, b int) bool { return pids[a] < pids[b] })
	return pids
}

// PIDDir is procRoot/<pid>.
func PIDDir(procRoot string, pid int32) string {
	return procRoot + "/" + strconv.Itoa(int(pid))
}

// ForEachFD calls fn with the path (procRoot/<pid>/fd/<n>) and the link
// target ("socket:[123]", "net:[4026531840]", a file name) of each open
// descriptor of pid, at most MaxFDsPerProc. target is only valid during
// the call. It returns false if the descriptors could not be listed (the
// process exited, or is not ours to read).
func ForEachFD(procRoot string, pid int32, fn func(path string, target []byte)) bool {
	return ForEachFDExcept(procRoot, pid, nil, fn)
}

// ForEachFDExcept is ForEachFD, without even reading the links of the
// descriptors skip says (skip may be nil): a process scanning itself skips
// the many it knows.
func ForEachFDExcept(procRoot string, pid int32, skip func(fd int) bool, fn func(path string, target []byte)) bool {
	dir := PIDDir(procRoot, pid) + "/fd"
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	names, _ := f.Readdirnames(MaxFDsPerProc)
	_ = f.Close()
	buf := make([]byte, 128) // longer targets are file names, cut short: no inode link is that long
	for _, fd := range names {
		if skip != nil {
			if n, err := strconv.Atoi(fd); err == nil && skip(n) {
				continue
			}
		}
		p := dir + "/" + fd
		n, err := unix.Readlink(p, buf)
		if err != nil {
			continue // closed meanwhile
		}
		fn(p, buf[:n])
	}
	return true
}

// LinkInode parses "<kind>:[<inode>]", as readlink of a descriptor reads
// for a socket ("socket") or a namespace ("net"), and as the root of an
// nsfs mount reads. Inode 0 is no inode.
func LinkInode(link []byte, kind string) (uint64, bool) {
	rest, ok := bytes.CutPrefix(link, []byte(kind))
	if !ok {
		return 0, false
	}
	rest, ok = bytes.CutPrefix(rest, []byte(":["))
	if !ok || len(rest) < 2 || rest[len(rest)-1] != ']' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(rest[:len(rest)-1]), 10, 64)
	if err != nil || v == 0 {
		return 0, false
	}
	return v, true
}
