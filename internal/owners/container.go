// SPDX-License-Identifier: Apache-2.0

package owners

import "strings"

// ContainerID returns the 64-hex-digit container id found in a cgroup path,
// or "". Runtimes name their cgroups differently; all put the id in one path
// component, alone or between a runtime prefix and a systemd suffix:
//
//	/system.slice/docker-<id>.scope                     docker, systemd driver
//	/docker/<id>                                        docker, cgroupfs driver
//	/kubepods.slice/.../cri-containerd-<id>.scope       containerd (CRI), systemd
//	/kubepods/burstable/pod<uid>/<id>                   kubelet, cgroupfs
//	/kubepods.slice/.../crio-<id>.scope                 CRI-O
//	/machine.slice/libpod-<id>.scope/container          podman
//
// The innermost (last) id wins, so a container nested in another reports its
// own. Components of a runtime's monitor process (crio-conmon-<id>,
// libpod-conmon-<id>) are not the container and are skipped.
func ContainerID(path string) string {
	for path != "" {
		i := strings.LastIndexByte(path, '/')
		comp := path[i+1:]
		if i < 0 {
			path = ""
		} else {
			path = path[:i]
		}
		if id := idIn(comp); id != "" {
			return id
		}
	}
	return ""
}

// idIn returns the container id that one path component names, or "".
func idIn(comp string) string {
	comp = strings.TrimSuffix(comp, ".scope")
	if strings.Contains(comp, "conmon") {
		return ""
	}
	// Strip a runtime prefix: "docker-", "cri-containerd-", "crio-", or the
	// "runtime:" form some drivers use.
	if i := strings.LastIndexAny(comp, "-:"); i >= 0 {
		comp = comp[i+1:]
	}
	if len(comp) != 64 {
		return ""
	}
	for i := 0; i < len(comp); i++ {
		c := comp[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return ""
		}
	}
	return comp
}
