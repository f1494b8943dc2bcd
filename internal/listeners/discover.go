// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"math"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/internal/netns"
	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// maxNamespaces bounds the namespaces dumped per Poll, so that a huge or
// hostile host cannot make a Poll unbounded (procfs bounds the walks).
const maxNamespaces = 4096

// pidNamespaces remembers the network namespace of every process, so that
// a Poll looks only at the processes that are new since the last one: a
// process that changes namespace later (setns, unshare) is seen at the
// next look at all of them (PollRefresh, PollEverything).
type pidNamespaces struct {
	of   map[int32]uint32 // pid -> network namespace inode
	list []int32          // the processes of the last find, sorted
}

// find maps the network namespace inode of every process under procRoot to
// a path that opens it (/proc/<pid>/ns/net, the first pid seen): one stat
// per process new since the last call, or per process with all.
func (p *pidNamespaces) find(procRoot string, into map[uint32]string, all bool) {
	pids := procfs.PIDs(procRoot)
	of := make(map[int32]uint32, len(pids))
	for _, pid := range pids {
		ino, known := p.of[pid]
		if !known || all {
			var err error
			if ino, err = netns.Inode(filepath.Join(procfs.PIDDir(procRoot, pid), "ns", "net")); err != nil {
				continue // gone, a kernel thread we may not inspect, or no permission
			}
		}
		of[pid] = ino
		if _, ok := into[ino]; !ok {
			into[ino] = filepath.Join(procfs.PIDDir(procRoot, pid), "ns", "net")
		}
	}
	p.of, p.list = of, pids
}

// fdNamespaces finds network namespaces that are held open by a descriptor
// (readlink gives "net:[N]") of one of pids, rather than entered by a
// process: `ip netns` helpers, container runtimes between steps, programs
// that create namespaces without entering them. It returns the pids that
// hold one. It costs one readlink per open descriptor of those processes,
// so a discovery scans all of them rarely; of this process's own, it skips
// those ownFD says (may be nil).
func fdNamespaces(procRoot string, pids []int32, into map[uint32]string, ownFD func(fd int) bool) (holders []int32) {
	self := int32(os.Getpid())
	for _, pid := range pids {
		holds := false
		var skip func(int) bool
		if pid == self {
			skip = ownFD
		}
		procfs.ForEachFDExcept(procRoot, pid, skip, func(path string, target []byte) {
			ino, ok := parseNsLink(target, "net")
			if !ok {
				return
			}
			holds = true
			if _, seen := into[ino]; !seen {
				into[ino] = path
			}
		})
		if holds {
			holders = append(holders, pid)
		}
	}
	return holders
}

// mountWatch finds network namespaces bind-mounted somewhere (`ip netns
// add` mounts them under /run/netns), rereading the mount table only when
// it changed: poll(2) on an open mountinfo says so (POLLPRI).
type mountWatch struct {
	fd    int // procRoot/self/mountinfo, -1 until opened
	buf   []byte
	found map[uint32]string
}

// find adds the bind-mounted namespaces to into.
func (m *mountWatch) find(procRoot string, into map[uint32]string) {
	reread := false
	if m.fd < 0 {
		fd, err := unix.Open(filepath.Join(procRoot, "self", "mountinfo"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return
		}
		m.fd, reread = fd, true
	} else {
		fds := []unix.PollFd{{Fd: int32(m.fd), Events: unix.POLLPRI}}
		if n, err := unix.Poll(fds, 0); err != nil || (n > 0 && fds[0].Revents&(unix.POLLPRI|unix.POLLERR) != 0) {
			reread = true
		}
	}
	if reread {
		b, err := procfs.ReadFD(m.fd, m.buf, maxMountinfo)
		m.found = map[uint32]string{}
		if err == nil {
			m.buf = b
			mountNamespaces(b, m.found)
		}
	}
	for ino, p := range m.found {
		if _, seen := into[ino]; !seen {
			into[ino] = p
		}
	}
}

// maxMountinfo bounds the mount table read.
const maxMountinfo = 16 << 20

func (m *mountWatch) close() {
	if m.fd >= 0 {
		_ = unix.Close(m.fd)
		m.fd = -1
	}
}

// mountNamespaces finds network namespaces bind-mounted somewhere: the
// mountinfo lines of type nsfs whose root is "net:[N]".
func mountNamespaces(mountinfo []byte, into map[uint32]string) {
	procfs.ParseMountinfo(mountinfo, func(m procfs.Mount) {
		if m.FSType != "nsfs" {
			return
		}
		ino, ok := parseNsLink([]byte(m.Root), "net")
		if !ok {
			return
		}
		if _, seen := into[ino]; !seen {
			into[ino] = m.MountPoint
		}
	})
}

// parseNsLink parses "<kind>:[<inode>]", as readlink of a namespace file
// or the root of an nsfs mount reads. Namespace inodes are 32 bits (the
// kernel's proc_inum).
func parseNsLink(b []byte, kind string) (uint32, bool) {
	v, ok := procfs.LinkInode(b, kind)
	if !ok || v > math.MaxUint32 {
		return 0, false
	}
	return uint32(v), true
}
