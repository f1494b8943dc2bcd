// SPDX-License-Identifier: Apache-2.0

package procfs

import (
	"os"
	"testing"
)

func TestUnescapeMountPath(t *testing.T) {
	for in, want := range map[string]string{
		`/a`:             "/a",
		`/a\040b`:        "/a b",
		`/a\011\012\134`: "/a\t\n\\",
		`/a\`:            `/a\`,
		`/a\04`:          `/a\04`,
		`/a\999`:         `/a\999`,
		`\040`:           " ",
	} {
		if got := unescapeMountPath(in); got != want {
			t.Errorf("unescapeMountPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseMountinfo(t *testing.T) {
	mi := "22 1 0:21 / /proc rw,nosuid - proc proc rw\n" +
		"610 29 0:4 net:[4026532177] /run/netns/with\\040space rw shared:5 - nsfs nsfs rw\n" +
		"30 22 0:26 /user.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n" +
		"garbage\n" +
		"1 2 3 - nsfs\n" +
		"1 2 3 4 5 -\n"
	var got []Mount
	ParseMountinfo([]byte(mi), func(m Mount) { got = append(got, m) })
	want := []Mount{
		{"/", "/proc", "proc"},
		{"net:[4026532177]", "/run/netns/with space", "nsfs"},
		{"/user.slice", "/sys/fs/cgroup", "cgroup2"},
	}
	if len(got) != len(want) {
		t.Fatalf("ParseMountinfo = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mount %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	root := false
	ParseMountinfo(b, func(m Mount) { root = root || m.MountPoint == "/" })
	if !root {
		t.Error("/proc/self/mountinfo has no mount on /")
	}
}
