// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testdata/proc is a small /proc: pids 7, 42, 100, 101, 300 with descriptor
// links (sockets, a pipe, /dev/null, malformed socket links), comm and cgroup
// files; 555 has no fd directory; sys and self are not processes.
const fixture = "testdata/proc"

func TestLookupFixture(t *testing.T) {
	r := NewResolver(fixture)
	cases := []struct {
		inode uint64
		want  Owner
	}{
		// Held by 42, 100 and 101: the lowest pid, compared as numbers.
		{5001, Owner{PID: 42, Comm: "sshd", CgroupPath: "/system.slice/ssh.service"}},
		{5002, Owner{PID: 100, Comm: "nginx", CgroupPath: "/system.slice/docker-" + id1 + ".scope", ContainerID: id1}},
		{5003, Owner{PID: 101, Comm: "nginx", CgroupPath: "/system.slice/docker-" + id1 + ".scope", ContainerID: id1}},
		{5004, Owner{PID: 42, Comm: "sshd", CgroupPath: "/system.slice/ssh.service"}},
		// No comm or cgroup file: the pid alone.
		{5005, Owner{PID: 7}},
		// Container visible only in the v1 hierarchies.
		{5006, Owner{PID: 300, Comm: "containerd-shim", CgroupPath: "/", ContainerID: id2}},
	}
	for _, c := range cases {
		got, ok := r.Lookup(c.inode)
		if !ok || got != c.want {
			t.Errorf("Lookup(%d) = %+v, %v; want %+v", c.inode, got, ok, c.want)
		}
	}
	if s := r.Stats(); s.Scans != 1 || s.Sockets != 6 || !s.LastComplete {
		t.Errorf("after the lookups of known sockets: %+v; want 1 complete scan finding 6 sockets", s)
	}
	// Not sockets, malformed, or inode 0.
	for _, ino := range []uint64{0, 777, 999999} {
		if o, ok := r.Lookup(ino); ok {
			t.Errorf("Lookup(%d) = %+v, want no owner", ino, o)
		}
	}
}

// copyTree copies a fixture tree, symbolic links as links.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, to)
		case fi.IsDir():
			return os.MkdirAll(to, 0o755)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(to, b, 0o644)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestRescanRateLimit: a storm of unknown inodes rescans at most once per
// interval, a socket that appears is found by the next allowed rescan, and
// one that disappears is forgotten by it.
func TestRescanRateLimit(t *testing.T) {
	root := copyTree(t, fixture)
	r := NewResolver(root)
	r.minInterval = 300 * time.Millisecond
	if _, ok := r.Lookup(5002); !ok {
		t.Fatal("5002 not found")
	}
	start := time.Now()
	for i := range 10000 {
		if _, ok := r.Lookup(uint64(100000 + i)); ok {
			t.Fatal("unknown inode resolved")
		}
	}
	if d := time.Since(start); d > r.minInterval {
		t.Skipf("10000 misses took %v, longer than the interval: machine too slow for this test", d)
	}
	s := r.Stats()
	if s.Scans != 1 || s.RateLimited != 10000 {
		t.Fatalf("after 10000 misses within the interval: %+v; want still 1 scan, 10000 rate-limited", s)
	}

	// A new socket in pid 101, and 5002 closed.
	if err := os.Symlink("socket:[6001]", filepath.Join(root, "101", "fd", "8")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "100", "fd", "4")); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Lookup(6001); ok {
		t.Fatal("6001 found before the interval passed")
	}
	if o, ok := r.Lookup(5002); !ok || o.PID != 100 {
		t.Fatalf("cached 5002 = %+v, %v; want the cached owner until a rescan", o, ok)
	}
	time.Sleep(r.minInterval)
	if o, ok := r.Lookup(6001); !ok || o.PID != 101 || o.Comm != "nginx" {
		t.Fatalf("Lookup(6001) after the interval = %+v, %v", o, ok)
	}
	if _, ok := r.Lookup(5002); ok {
		t.Fatal("5002 still resolves after the rescan that saw it closed")
	}
	if s := r.Stats(); s.Scans != 2 {
		t.Fatalf("scans = %d, want 2", s.Scans)
	}
}

// TestRescanBudget: a scan cut short keeps what it did not reach from the
// previous snapshot, and the next scan resumes where it stopped.
func TestRescanBudget(t *testing.T) {
	root := copyTree(t, fixture)
	r := NewResolver(root)
	if _, ok := r.Lookup(5001); !ok {
		t.Fatal("5001 not found")
	}
	// A budget already spent: the scan reaches no process at all. (Clearing
	// lastScan lifts the rate limit.)
	r.scanBudget = -time.Second
	r.lastScan = time.Time{}
	if err := os.Symlink("socket:[6002]", filepath.Join(root, "300", "fd", "8")); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Lookup(6002); ok {
		t.Fatal("6002 found by a scan that read nothing")
	}
	s := r.Stats()
	if s.LastComplete || s.Partial != 1 || s.Sockets != 6 {
		t.Fatalf("after a scan with no budget: %+v; want partial, the 6 old sockets kept", s)
	}
	if o, ok := r.Lookup(5004); !ok || o.Comm != "sshd" {
		t.Fatalf("old socket 5004 after a partial scan = %+v, %v", o, ok)
	}
	r.scanBudget = time.Second
	r.lastScan = time.Time{}
	if o, ok := r.Lookup(6002); !ok || o.PID != 300 {
		t.Fatalf("Lookup(6002) with a budget = %+v, %v", o, ok)
	}
}

// TestCap: beyond maxEntries sockets the cache stops growing and says so.
func TestCap(t *testing.T) {
	r := NewResolver(fixture)
	r.maxEntries = 2
	r.Lookup(5001)
	if s := r.Stats(); s.Sockets != 2 || s.Capped != 1 {
		t.Fatalf("with room for 2: %+v", s)
	}
}

func TestLookupConcurrent(t *testing.T) {
	r := NewResolver(fixture)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				ino := uint64(5001 + (g+i)%6)
				if o, ok := r.Lookup(ino); !ok || o.PID == 0 {
					t.Errorf("Lookup(%d) = %+v, %v", ino, o, ok)
					return
				}
				r.Lookup(uint64(90000 + i)) // misses, rate-limited
			}
		}()
	}
	wg.Wait()
	if s := r.Stats(); s.Scans > 3 {
		t.Errorf("%d scans for 8000 misses within a fraction of a second", s.Scans)
	}
}

func TestMissingProcRoot(t *testing.T) {
	r := NewResolver(filepath.Join(t.TempDir(), "nothing"))
	if o, ok := r.Lookup(1); ok {
		t.Fatalf("Lookup in an empty /proc = %+v", o)
	}
}

// TestCachedNeverScans: Cached answers from what the last scan found, and
// never scans itself.
func TestCachedNeverScans(t *testing.T) {
	r := NewResolver(fixture)
	if _, ok := r.Cached(5001); ok {
		t.Fatal("Cached found an owner before any scan")
	}
	if s := r.Stats(); s.Scans != 0 {
		t.Fatalf("Cached scanned: %+v", s)
	}
	want, _ := r.Lookup(5001)
	if got, ok := r.Cached(5001); !ok || got != want {
		t.Errorf("Cached(5001) = %+v, %v after a scan; want %+v", got, ok, want)
	}
	if _, ok := r.Cached(999999); ok {
		t.Error("Cached found an owner for a socket no process holds")
	}
	if s := r.Stats(); s.Scans != 1 {
		t.Errorf("%d scans, want the one Lookup made", s.Scans)
	}
}
