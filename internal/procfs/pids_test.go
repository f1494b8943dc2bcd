// SPDX-License-Identifier: Apache-2.0

package procfs

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

func TestLinkInode(t *testing.T) {
	for _, c := range []struct {
		link, kind string
		want       uint64
	}{
		{"net:[4026531840]", "net", 4026531840},
		{"net:[1]", "net", 1},
		{"socket:[12345]", "socket", 12345},
		{"socket:[18446744073709551615]", "socket", 18446744073709551615},
	} {
		if got, ok := LinkInode([]byte(c.link), c.kind); !ok || got != c.want {
			t.Errorf("LinkInode(%q, %q) = %d, %v", c.link, c.kind, got, ok)
		}
	}
	for _, c := range [][2]string{
		{"", "net"}, {"net:[]", "net"}, {"net:[x]", "net"}, {"mnt:[4026531840]", "net"}, {"net:[4026531840", "net"},
		{"socket:[5]", "net"}, {"net:[-1]", "net"}, {"socket:[0]", "socket"}, {"socket:[18446744073709551616]", "socket"},
		{"socketx:[5]", "socket"}, {"pipe:[5]", "socket"}, {"/dev/null", "socket"}, {"anon_inode:[eventfd]", "anon_inode"},
	} {
		if got, ok := LinkInode([]byte(c[0]), c[1]); ok {
			t.Errorf("LinkInode(%q, %q) = %d, want no", c[0], c[1], got)
		}
	}
}

// TestWalkFixture: the processes of a fake /proc and their descriptors.
func TestWalkFixture(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) string {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, p := range []string{"300/fd/", "20/fd/", "1/fd/", "self/fd/", "sys/x", "0/fd/", "2147483648/fd/"} {
		mk(p)
	}
	if err := os.Symlink("net:[77]", mk("20/fd/3")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("socket:[78]", mk("20/fd/4")); err != nil {
		t.Fatal(err)
	}
	if got := PIDs(root); !slices.Equal(got, []int32{1, 20, 300}) {
		t.Errorf("PIDs = %v, want [1 20 300]", got)
	}
	links := map[string]string{}
	if !ForEachFD(root, 20, func(p string, target []byte) { links[p] = string(target) }) {
		t.Fatal("ForEachFD(20) could not list")
	}
	want := map[string]string{filepath.Join(root, "20/fd/3"): "net:[77]", filepath.Join(root, "20/fd/4"): "socket:[78]"}
	if len(links) != len(want) || links[filepath.Join(root, "20/fd/3")] != "net:[77]" || links[filepath.Join(root, "20/fd/4")] != "socket:[78]" {
		t.Errorf("ForEachFD(20) = %v, want %v", links, want)
	}
	if ForEachFD(root, 555, func(string, []byte) { t.Error("fn called for a missing process") }) {
		t.Error("ForEachFD of a missing process: true")
	}
	if got := PIDs(filepath.Join(root, "missing")); len(got) != 0 {
		t.Errorf("PIDs of a missing /proc = %v", got)
	}
}

// TestSelf: this process is in /proc and its descriptors can be read.
func TestSelf(t *testing.T) {
	pid := int32(os.Getpid())
	if _, ok := slices.BinarySearch(PIDs("/proc"), pid); !ok {
		t.Fatalf("PIDs(/proc) has no %d", pid)
	}
	n := 0
	if !ForEachFD("/proc", pid, func(string, []byte) { n++ }) || n == 0 {
		t.Fatalf("ForEachFD(self): %d descriptors", n)
	}
}

// TestForEachFDExcept: the descriptors skip names are not read.
func TestForEachFDExcept(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	seen := func(skip func(int) bool) bool {
		found := false
		ForEachFDExcept("/proc", int32(os.Getpid()), skip, func(path string, _ []byte) {
			if path == "/proc/"+strconv.Itoa(os.Getpid())+"/fd/"+strconv.Itoa(fd) {
				found = true
			}
		})
		return found
	}
	if !seen(nil) {
		t.Fatalf("fd %d (/dev/null) not listed", fd)
	}
	if seen(func(n int) bool { return n == fd }) {
		t.Errorf("fd %d listed though skipped", fd)
	}
}
