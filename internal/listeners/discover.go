// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"math"
	"path/filepath"

	"github.com/tcpdrop/tcpdrop/internal/netns"
	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// maxNamespaces bounds the namespaces dumped per Poll, so that a huge or
// hostile host cannot make a Poll unbounded (procfs bounds the walks).
const maxNamespaces = 4096

// processNamespaces maps the network namespace inode of every process under
// procRoot to a path that opens it (/proc/<pid>/ns/net, the first pid seen).
// One stat per process.
func processNamespaces(procRoot string, into map[uint32]string) {
	for _, pid := range procfs.PIDs(procRoot) {
		p := filepath.Join(procfs.PIDDir(procRoot, pid), "ns", "net")
		ino, err := netns.Inode(p)
		if err != nil {
			continue // gone, a kernel thread we may not inspect, or no permission
		}
		if _, ok := into[ino]; !ok {
			into[ino] = p
		}
	}
}

// fdNamespaces finds network namespaces that are held open by a descriptor
// (readlink gives "net:[N]") rather than entered by a process: test
// sandboxes, `ip netns` helpers, container runtimes between steps. It costs
// one readlink per open descriptor on the host, so Watcher runs it rarely.
func fdNamespaces(procRoot string, into map[uint32]string) {
	for _, pid := range procfs.PIDs(procRoot) {
		procfs.ForEachFD(procRoot, pid, func(path string, target []byte) {
			ino, ok := parseNsLink(target, "net")
			if !ok {
				return
			}
			if _, seen := into[ino]; !seen {
				into[ino] = path
			}
		})
	}
}

// mountNamespaces finds network namespaces bind-mounted somewhere
// (`ip netns add` mounts them under /run/netns): mountinfo lines of type
// nsfs whose root is "net:[N]".
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
