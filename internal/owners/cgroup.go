package owners

import (
	"bufio"
	"bytes"
	"strings"
)

// cgroupInfo is what /proc/<pid>/cgroup tells about a process.
type cgroupInfo struct {
	Path        string // the cgroup v2 path if any, else a v1 one (see parseCgroup)
	ContainerID string
}

// parseCgroup reads /proc/<pid>/cgroup: lines "hierarchy-id:controllers:path".
// The cgroup v2 line is "0::<path>"; hybrid hosts (cgroup2 mounted at
// /sys/fs/cgroup/unified) have it next to the v1 lines, pure v2 hosts have
// only it. Path is the v2 path; on a v1-only host it is the name=systemd
// hierarchy's path, else the first line's. The container id is looked for in
// the v2 path first, then in the v1 paths: on a hybrid host a runtime using
// the cgroupfs driver may place containers only in the v1 hierarchies.
func parseCgroup(b []byte) cgroupInfo {
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
		ctrl, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		// A v2 cgroup removed while the process still sits in it (a zombie).
		path = strings.TrimSuffix(path, " (deleted)")
		switch {
		case id == "0" && ctrl == "":
			if !haveV2 {
				v2, haveV2 = path, true
			}
			continue
		case ctrl == "name=systemd" && systemd == "":
			systemd = path
		}
		if first == "" {
			first = path
		}
		v1 = append(v1, path)
	}
	info := cgroupInfo{Path: v2}
	if !haveV2 {
		info.Path = systemd
		if info.Path == "" {
			info.Path = first
		}
	}
	info.ContainerID = ContainerID(v2)
	for _, p := range v1 {
		if info.ContainerID != "" {
			break
		}
		info.ContainerID = ContainerID(p)
	}
	return info
}
