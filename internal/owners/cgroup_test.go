// SPDX-License-Identifier: Apache-2.0

package owners

import "testing"

func TestParseCgroup(t *testing.T) {
	const podScope = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1f7e6a2b_8c1d_4e5f_9a0b_1c2d3e4f5a6b.slice/cri-containerd-" + id1 + ".scope"
	cases := []struct {
		name, in string
		want     cgroupInfo
	}{
		{"pure v2", "0::/system.slice/docker-" + id1 + ".scope\n", cgroupInfo{"/system.slice/docker-" + id1 + ".scope", id1, ""}},
		{"hybrid, this host", "9:name=systemd:/\n4:memory:/process_api/cbadf005376488219e50d831a6875bcc\n1:cpu:/\n0::/\n",
			cgroupInfo{"/", "", ""}},
		{"hybrid, container only in v1 (cgroupfs driver)", "11:memory:/docker/" + id2 + "\n1:name=systemd:/docker/" + id2 + "\n0::/\n",
			cgroupInfo{"/", id2, ""}},
		{"hybrid, v2 wins", "1:name=systemd:/docker/" + id2 + "\n0::/system.slice/docker-" + id1 + ".scope\n",
			cgroupInfo{"/system.slice/docker-" + id1 + ".scope", id1, ""}},
		{"v1 only: name=systemd", "4:memory:/a\n1:name=systemd:/system.slice/ssh.service\n", cgroupInfo{"/system.slice/ssh.service", "", ""}},
		{"v1 only: no systemd", "4:memory:/a\n3:cpu:/b\n", cgroupInfo{"/a", "", ""}},
		{"pod, systemd driver", "0::" + podScope + "\n", cgroupInfo{podScope, id1, podUID}},
		{"pod, cgroupfs driver, only in v1", "4:memory:/kubepods/burstable/pod" + podUID + "/" + id2 + "\n0::/\n", cgroupInfo{"/", id2, podUID}},
		{"deleted cgroup", "0::/gone (deleted)\n", cgroupInfo{"/gone", "", ""}},
		{"no trailing newline", "0::/x", cgroupInfo{"/x", "", ""}},
		{"colons in the path", "0::/a:b:c\n", cgroupInfo{"/a:b:c", "", ""}},
		{"garbage", "nonsense\n\n:\n", cgroupInfo{}},
		{"empty", "", cgroupInfo{}},
	}
	for _, c := range cases {
		if got := parseCgroup([]byte(c.in), nil); got != c.want {
			t.Errorf("%s: parseCgroup = %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestParseCgroupRelative: read in a container's cgroup namespace, paths
// are relative to the container's cgroup; rebased on the namespace's roots
// they are the host's again, and this container's own processes ("/")
// keep their container id and pod uid.
func TestParseCgroupRelative(t *testing.T) {
	const (
		pod     = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f7e6a2b_8c1d_4e5f_9a0b_1c2d3e4f5a6b.slice"
		self    = pod + "/cri-containerd-" + id1 + ".scope"
		besteff = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d.slice/cri-containerd-" + id2 + ".scope"
	)
	v2 := cgroupRoots{"0": self}
	hybrid := cgroupRoots{"0": "/", "4": "/docker/" + id1, "1": "/docker/" + id1}
	cases := []struct {
		name, in string
		roots    cgroupRoots
		want     cgroupInfo
	}{
		{"this container", "0::/\n", v2, cgroupInfo{self, id1, podUID}},
		{"below this container", "0::/init.scope\n", v2, cgroupInfo{self + "/init.scope", id1, podUID}},
		{"a neighbour in the pod", "0::/../cri-containerd-" + id2 + ".scope\n", v2, cgroupInfo{pod + "/cri-containerd-" + id2 + ".scope", id2, podUID}},
		{"another pod", "0::/../../../kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d.slice/cri-containerd-" + id2 + ".scope\n",
			v2, cgroupInfo{besteff, id2, "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"}},
		{"the host", "0::/../../../../system.slice/ssh.service\n", v2, cgroupInfo{"/system.slice/ssh.service", "", ""}},
		{"more .. than the hierarchy is deep", "0::/../../../../../../x\n", v2, cgroupInfo{"/x", "", ""}},
		{"no roots: as written", "0::/../cri-containerd-" + id2 + ".scope\n", nil, cgroupInfo{"/../cri-containerd-" + id2 + ".scope", id2, ""}},
		{"hybrid host, docker's cgroupfs driver: a neighbour", "4:memory:/../" + id2 + "\n1:name=systemd:/../" + id2 + "\n0::/\n",
			hybrid, cgroupInfo{"/", id2, ""}},
		{"hybrid host: this container", "4:memory:/\n1:name=systemd:/\n0::/\n", hybrid, cgroupInfo{"/", id1, ""}},
	}
	for _, c := range cases {
		if got := parseCgroup([]byte(c.in), c.roots); got != c.want {
			t.Errorf("%s: parseCgroup = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestParseRoots(t *testing.T) {
	got := parseRoots([]byte("4:memory:/docker/" + id1 + "\n1:name=systemd:/docker/" + id1 + "\n0::/\nbad\n3:cpu:relative\n"))
	want := cgroupRoots{"4": "/docker/" + id1, "1": "/docker/" + id1, "0": "/"}
	if len(got) != len(want) {
		t.Fatalf("parseRoots = %v, want %v", got, want)
	}
	for id, p := range want {
		if got[id] != p {
			t.Errorf("parseRoots[%s] = %q, want %q", id, got[id], p)
		}
	}
}

func FuzzParseCgroup(f *testing.F) {
	f.Add([]byte("0::/system.slice/docker-" + id1 + ".scope\n1:name=systemd:/\n"))
	f.Add([]byte("0::/../../x\n"))
	roots := cgroupRoots{"0": "/a/b", "1": "/c"}
	f.Fuzz(func(_ *testing.T, b []byte) {
		_ = parseCgroup(b, nil)
		_ = parseCgroup(b, roots)
	})
}
