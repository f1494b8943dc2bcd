package owners

import (
	"bytes"
	"os"
	"sort"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Limits on one scan of /proc.
const (
	maxProcs      = 1 << 20 // process directories read
	maxFDsPerProc = 1 << 20 // descriptors read per process
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

// listPIDs returns the numeric entries of procRoot, sorted.
func listPIDs(procRoot string) []int32 {
	d, err := os.Open(procRoot)
	if err != nil {
		return nil
	}
	defer d.Close()
	var pids []int32
	for len(pids) < maxProcs {
		names, err := d.Readdirnames(1024)
		for _, n := range names {
			if v, err := strconv.ParseUint(n, 10, 31); err == nil && v > 0 {
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

// scanSockets reads the descriptors of the processes under procRoot, starting
// at pid from (wrapping around), until all are read, the deadline passes, or
// maxEntries sockets are found.
func scanSockets(procRoot string, from int32, deadline time.Time, maxEntries int) scanResult {
	res := scanResult{sockets: map[uint64]int32{}, visited: map[int32]bool{}, full: true}
	pids := listPIDs(procRoot)
	start := sort.Search(len(pids), func(i int) bool { return pids[i] >= from })
	buf := make([]byte, 64)
	for k := range pids {
		pid := pids[(start+k)%len(pids)]
		if time.Now().After(deadline) {
			res.next, res.full = pid, false
			return res
		}
		res.visited[pid] = true
		dir := procRoot + "/" + strconv.Itoa(int(pid)) + "/fd"
		f, err := os.Open(dir)
		if err != nil {
			continue // exited, or not ours to read
		}
		names, _ := f.Readdirnames(maxFDsPerProc)
		_ = f.Close()
		for _, fd := range names {
			n, err := unix.Readlink(dir+"/"+fd, buf)
			if err != nil {
				continue
			}
			ino, ok := socketInode(buf[:n])
			if !ok {
				continue
			}
			if old, ok := res.sockets[ino]; ok {
				res.sockets[ino] = min(old, pid)
				continue
			}
			if len(res.sockets) >= maxEntries {
				res.capped = true
				continue
			}
			res.sockets[ino] = pid
		}
	}
	return res
}

// socketInode parses the target of a descriptor link, "socket:[12345]".
func socketInode(link []byte) (uint64, bool) {
	rest, ok := bytes.CutPrefix(link, []byte("socket:["))
	if !ok || len(rest) < 2 || rest[len(rest)-1] != ']' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(rest[:len(rest)-1]), 10, 64)
	if err != nil || v == 0 {
		return 0, false
	}
	return v, true
}

// readProcess reads the name and cgroup of pid, using buf for the files.
// Files that cannot be read (the process exited) leave their fields empty.
func readProcess(procRoot string, pid int32, buf []byte) Owner {
	o := Owner{PID: int(pid)}
	dir := procRoot + "/" + strconv.Itoa(int(pid))
	if b, err := readSmall(dir+"/comm", buf); err == nil {
		o.Comm = string(bytes.TrimRight(b, "\n"))
	}
	if b, err := readSmall(dir+"/cgroup", buf); err == nil {
		cg := parseCgroup(b)
		o.CgroupPath, o.ContainerID = cg.Path, cg.ContainerID
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
