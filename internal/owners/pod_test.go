// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"strings"
	"testing"
)

const (
	podUID    = "1f7e6a2b-8c1d-4e5f-9a0b-1c2d3e4f5a6b"
	staticPod = "6b4fbb4e2d2a0f1ba4d7a34dc1a1b2e0" // a static pod's: the hash of its manifest
)

// systemd writes a uid's dashes as underscores.
var podUIDSystemd = strings.ReplaceAll(podUID, "-", "_")

func TestPodUID(t *testing.T) {
	cases := []struct{ path, want string }{
		// systemd driver, each QoS class
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podUIDSystemd + ".slice/cri-containerd-" + id1 + ".scope", podUID},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + podUIDSystemd + ".slice/crio-" + id1 + ".scope", podUID},
		{"/kubepods.slice/kubepods-pod" + podUIDSystemd + ".slice/cri-containerd-" + id1 + ".scope", podUID},
		{"/kubepods.slice/kubepods-pod" + podUIDSystemd + ".slice", podUID}, // the pod's own cgroup (its sandbox's parent)
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + staticPod + ".slice/cri-containerd-" + id1 + ".scope", staticPod},
		// cgroupfs driver, each QoS class
		{"/kubepods/burstable/pod" + podUID + "/" + id1, podUID},
		{"/kubepods/besteffort/pod" + podUID + "/" + id1, podUID},
		{"/kubepods/pod" + podUID + "/" + id1, podUID},
		{"/kubepods/pod" + staticPod + "/" + id1, staticPod},
		// kind and other nested kubelets: the kubelet's cgroup root below another
		{"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + podUIDSystemd + ".slice/cri-containerd-" + id1 + ".scope", podUID},
		{"/docker/" + id2 + "/kubepods/burstable/pod" + podUID + "/" + id1, podUID},
		// relative to a container's cgroup namespace, not rebased: still found below the kubelet's
		{"/../../kubepods-besteffort.slice/kubepods-besteffort-pod" + podUIDSystemd + ".slice/cri-containerd-" + id1 + ".scope", podUID},
		// not pods
		{"", ""},
		{"/", ""},
		{"/kubepods.slice", ""},
		{"/kubepods.slice/kubepods-burstable.slice", ""},
		{"/kubepods/burstable", ""},
		{"/system.slice/docker-" + id1 + ".scope", ""},
		{"/system.slice/pod" + podUID, ""},                                                 // not below the kubelet's cgroups
		{"/machine.slice/libpod-pod" + podUIDSystemd + ".slice", ""},                       // podman's pods are not the kubelet's
		{"/kubepods/burstable/pod" + strings.ToUpper(podUID) + "/" + id1, ""},              // uids are lower case
		{"/kubepods/burstable/pod" + podUID[:35] + "/" + id1, ""},                          // too short
		{"/kubepods/burstable/pod" + strings.ReplaceAll(podUID, "-", "x") + "/" + id1, ""}, // no dashes
		{"/kubepods.slice/kubepods-burstable-pod" + podUID + "x.slice", ""},
	}
	for _, c := range cases {
		if got := PodUID(c.path); got != c.want {
			t.Errorf("PodUID(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}

func FuzzPodUID(f *testing.F) {
	f.Add("/kubepods/burstable/pod" + podUID + "/" + id1)
	f.Add("/kubepods.slice/kubepods-pod" + podUIDSystemd + ".slice")
	f.Fuzz(func(t *testing.T, path string) {
		uid := PodUID(path)
		if uid != "" && !isPodUID(uid) {
			t.Fatalf("PodUID(%q) = %q", path, uid)
		}
	})
}
