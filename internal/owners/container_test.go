// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"strings"
	"testing"
)

const (
	id1 = "3f2e1d0c9b8a79685746352413021f0e3f2e1d0c9b8a79685746352413021f0e"
	id2 = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
)

func TestContainerID(t *testing.T) {
	cases := []struct{ path, want string }{
		// docker
		{"/system.slice/docker-" + id1 + ".scope", id1},
		{"/docker/" + id1, id1},
		{"/system.slice/docker-" + id1 + ".scope/init.scope", id1}, // systemd inside the container
		{"/docker/" + id1 + "/docker/" + id2, id2},                 // nested: the innermost
		// kubernetes
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f7e6a2b_8c1d_4e5f_9a0b_1c2d3e4f5a6b.slice/cri-containerd-" + id1 + ".scope", id1},
		{"/kubepods/burstable/pod1f7e6a2b-8c1d-4e5f-9a0b-1c2d3e4f5a6b/" + id1, id1},
		{"/kubepods/pod1f7e6a2b-8c1d-4e5f-9a0b-1c2d3e4f5a6b/" + id2, id2},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1f7e6a2b_8c1d.slice/crio-" + id2 + ".scope", id2},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1f7e6a2b_8c1d.slice/crio-conmon-" + id2 + ".scope", ""},
		{"/kubepods-besteffort-pod1f7e6a2b_8c1d.slice:cri-containerd:" + id1, id1},
		// podman, rootful and rootless
		{"/machine.slice/libpod-" + id1 + ".scope/container", id1},
		{"/machine.slice/libpod-conmon-" + id1 + ".scope", ""},
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id2 + ".scope", id2},
		// containerd without kubernetes, ECS, CI runners
		{"/default/" + id1, id1},
		{"/ecs/8a1b2c3d4e5f60718293a4b5c6d7e8f9/" + id2, id2},
		{"/actions_job/" + id1, id1},
		// not containers
		{"", ""},
		{"/", ""},
		{"/init.scope", ""},
		{"/user.slice/user-0.slice/session-4.scope", ""},
		{"/system.slice/containerd.service", ""},
		{"/process_api/cbadf005376488219e50d831a6875bcc", ""}, // 32 hex digits
		{"/docker/" + strings.ToUpper(id1), ""},               // ids are lower case
		{"/docker/" + id1 + "0", ""},                          // 65 digits
		{"/docker/" + id1[:63] + "g", ""},
		{"/docker-" + id1 + ".slice", ""}, // .slice is a group of units, not a container scope
		{id1, id1},                        // relative path: still an id
		{"//docker//" + id1 + "//", id1},
	}
	for _, c := range cases {
		if got := ContainerID(c.path); got != c.want {
			t.Errorf("ContainerID(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}

func FuzzContainerID(f *testing.F) {
	f.Add("/system.slice/docker-" + id1 + ".scope")
	f.Add("/kubepods/burstable/pod/" + id2)
	f.Add("-:/.scope")
	f.Fuzz(func(t *testing.T, path string) {
		id := ContainerID(path)
		if id != "" && (len(id) != 64 || !strings.Contains(path, id)) {
			t.Fatalf("ContainerID(%q) = %q", path, id)
		}
	})
}
