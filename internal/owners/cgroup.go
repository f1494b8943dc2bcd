// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"bufio"
	"bytes"
	"path"
	"strings"
)

// cgroupInfo is what /proc/<pid>/cgroup tells about a process.
type cgroupInfo struct {
	Path        string // the cgroup v2 path if any, else a v1 one (see parseCgroup)
	ContainerID string
	PodUID      string
}

// parseCgroup reads /proc/<pid>/cgroup: lines "hierarchy-id:controllers:path".
// The cgroup v2 line is "0::<path>"; hybrid hosts (cgroup2 mounted at
// /sys/fs/cgroup/unified) have it next to the v1 lines, pure v2 hosts have
// only it. Path is the v2 path; on a v1-only host it is the name=systemd
// hierarchy's path, else the first line's. The container id and the pod uid
// are looked for in the v2 path first, then in the v1 paths: on a hybrid host
// a runtime using the cgroupfs driver may place containers only in the v1
// hierarchies.
//
// The kernel writes each path relative to the reader's cgroup namespace
// ("/../../system.slice/x.service" for a group outside it); roots gives, by
// hierarchy id, the absolute path of that namespace's root, which makes them
// absolute again (nil: the reader sees the whole hierarchy).
func parseCgroup(b []byte, roots cgroupRoots) cgroupInfo {
	var v2, systemd, first string
	var haveV2 bool
	var v1 []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		id, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		ctrl, p, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		// A v2 cgroup removed while the process still sits in it (a zombie).
		p = roots.rebase(id, strings.TrimSuffix(p, " (deleted)"))
		switch {
		case id == "0" && ctrl == "":
			if !haveV2 {
				v2, haveV2 = p, true
			}
			continue
		case ctrl == "name=systemd" && systemd == "":
			systemd = p
		}
		if first == "" {
			first = p
		}
		v1 = append(v1, p)
	}
	info := cgroupInfo{Path: v2}
	if !haveV2 {
		info.Path = systemd
		if info.Path == "" {
			info.Path = first
		}
	}
	info.ContainerID, info.PodUID = ContainerID(v2), PodUID(v2)
	for _, p := range v1 {
		if info.ContainerID == "" {
			info.ContainerID = ContainerID(p)
		}
		if info.PodUID == "" {
			info.PodUID = PodUID(p)
		}
	}
	return info
}

// cgroupRoots are the absolute paths of a cgroup namespace's root, by
// hierarchy id ("0" for cgroup v2), as the host's namespace sees them.
type cgroupRoots map[string]string

// rebase makes p, a path relative to the namespace's root in hierarchy id,
// absolute. A path the kernel wrote outside the namespace goes up with
// "..": /../x below root /a/b is /a/x. Without a root for the hierarchy p
// stays as written.
func (r cgroupRoots) rebase(id, p string) string {
	root, ok := r[id]
	if !ok || root == "/" || !strings.HasPrefix(p, "/") {
		return p
	}
	return path.Join(root, p)
}
