// SPDX-License-Identifier: Apache-2.0

package owners

import "strings"

// PodUID returns the uid of the Kubernetes pod a cgroup path belongs to, or
// "". The kubelet names a pod's cgroup after its uid, by its cgroup driver
// and the pod's QoS class:
//
//	/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/...  systemd, burstable
//	/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/... systemd, best effort
//	/kubepods.slice/kubepods-pod<uid>.slice/...                                      systemd, guaranteed
//	/kubepods/burstable/pod<uid>/...                                                 cgroupfs, burstable
//	/kubepods/besteffort/pod<uid>/...                                                cgroupfs, best effort
//	/kubepods/pod<uid>/...                                                           cgroupfs, guaranteed
//
// A kubelet given a cgroup root of its own (kind: --cgroup-root=/kubelet)
// prefixes the systemd names with it: kubelet-kubepods-pod<uid>.slice.
// The systemd driver writes the uid's dashes as underscores (a dash
// separates slice names); PodUID gives it back with dashes. A uid is a UUID
// (8-4-4-4-12 hex digits), or 32 hex digits for a static pod (the hash of
// its manifest). The innermost pod wins.
func PodUID(path string) string {
	underKubepods := strings.Contains(path, "kubepods")
	for path != "" {
		i := strings.LastIndexByte(path, '/')
		comp := path[i+1:]
		path = path[:max(i, 0)]
		if !underKubepods {
			return ""
		}
		if uid := podUIDIn(comp, strings.Contains(path, "kubepods")); uid != "" {
			return uid
		}
	}
	return ""
}

// podUIDIn returns the pod uid one path component names, or "";
// parentIsKubepods tells whether a component above it is the kubelet's.
func podUIDIn(comp string, parentIsKubepods bool) string {
	var uid string
	if name, ok := strings.CutSuffix(comp, ".slice"); ok {
		// systemd: kubepods[-<qos>]-pod<uid>.slice
		i := strings.LastIndex(name, "-pod")
		if i < 0 || !strings.Contains(name[:i], "kubepods") {
			return ""
		}
		uid = strings.ReplaceAll(name[i+len("-pod"):], "_", "-")
	} else {
		// cgroupfs: pod<uid> below /kubepods
		rest, ok := strings.CutPrefix(comp, "pod")
		if !ok || !parentIsKubepods {
			return ""
		}
		uid = rest
	}
	if !isPodUID(uid) {
		return ""
	}
	return uid
}

// isPodUID: a UUID in lower-case hex (8-4-4-4-12), or 32 hex digits.
func isPodUID(s string) bool {
	switch len(s) {
	case 32:
		return isHex(s)
	case 36:
		for _, dash := range []int{8, 13, 18, 23} {
			if s[dash] != '-' {
				return false
			}
		}
		return isHex(s[0:8]) && isHex(s[9:13]) && isHex(s[14:18]) && isHex(s[19:23]) && isHex(s[24:36])
	}
	return false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
