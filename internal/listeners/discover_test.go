// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

func TestParseNsLink(t *testing.T) {
	for in, want := range map[string]uint32{
		"net:[4026531840]": 4026531840,
		"net:[1]":          1,
	} {
		if got, ok := parseNsLink([]byte(in), "net"); !ok || got != want {
			t.Errorf("parseNsLink(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "net:[]", "net:[x]", "mnt:[4026531840]", "net:[4026531840", "net:[4294967296]", "socket:[5]", "net:[-1]"} {
		if got, ok := parseNsLink([]byte(in), "net"); ok {
			t.Errorf("parseNsLink(%q) = %d, want no", in, got)
		}
	}
}

func TestMountNamespaces(t *testing.T) {
	mi := "22 1 0:21 / /proc rw,nosuid - proc proc rw\n" +
		"610 29 0:4 net:[4026532177] /run/netns/blue rw shared:5 - nsfs nsfs rw\n" +
		"611 29 0:4 net:[4026532178] /run/netns/with\\040space rw - nsfs nsfs rw\n" +
		"612 29 0:4 mnt:[4026532179] /run/mntns rw - nsfs nsfs rw\n" +
		"613 29 0:4 net:[4026532177] /run/netns/again rw - nsfs nsfs rw\n" +
		"garbage\n" +
		"1 2 3 - nsfs\n"
	got := map[uint32]string{}
	mountNamespaces([]byte(mi), got)
	want := map[uint32]string{4026532177: "/run/netns/blue", 4026532178: "/run/netns/with space"}
	if len(got) != len(want) {
		t.Fatalf("mountNamespaces = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("namespace %d at %q, want %q", k, got[k], v)
		}
	}
}

// TestDiscoverFixture: process and descriptor scans over a fake /proc,
// where namespace files are symlinks and regular files.
func TestDiscoverFixture(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) string {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, pid := range []string{"1", "20", "300"} {
		if err := os.WriteFile(mk(pid+"/ns/net"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("net:[77]", mk("20/fd/3")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("socket:[78]", mk("20/fd/4")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(mk("self/fd"), 0o755); err != nil {
		t.Fatal(err)
	}
	var pids pidNamespaces
	procs := map[uint32]string{}
	pids.find(root, procs, false)
	if len(procs) != 3 { // three files, three inodes
		t.Errorf("pidNamespaces.find = %v", procs)
	}
	// Process 20 moves to another namespace (another file, another
	// inode), 300 exits: only a look at all processes sees the move.
	before := pids.of[20]
	if err := os.WriteFile(mk("20/ns/net.new"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "20/ns/net.new"), filepath.Join(root, "20/ns/net")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "300")); err != nil {
		t.Fatal(err)
	}
	pids.find(root, map[uint32]string{}, false)
	if pids.of[20] != before || len(pids.of) != 2 {
		t.Errorf("after a look at new processes only: %v; want pid 20 still at %d, pid 300 gone", pids.of, before)
	}
	pids.find(root, map[uint32]string{}, true)
	if pids.of[20] == before {
		t.Errorf("after a look at all processes, pid 20 is still at %d", before)
	}
	fds := map[uint32]string{}
	holders := fdNamespaces(root, procfs.PIDs(root), fds, nil)
	if len(fds) != 1 || fds[77] != filepath.Join(root, "20/fd/3") || len(holders) != 1 || holders[0] != 20 {
		t.Errorf("fdNamespaces = %v, held by %v", fds, holders)
	}
	none := map[uint32]string{}
	var nopids pidNamespaces
	nopids.find(filepath.Join(root, "missing"), none, true)
	fdNamespaces(filepath.Join(root, "missing"), []int32{1}, none, nil)
	if len(none) != 0 {
		t.Errorf("found %v in a missing /proc", none)
	}
}
