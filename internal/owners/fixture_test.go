// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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
		want  Process
	}{
		// Held by 42, 100 and 101: the lowest pid, compared as numbers.
		{5001, Process{PID: 42, Comm: "sshd", CgroupPath: "/system.slice/ssh.service"}},
		{5002, Process{PID: 100, Comm: "nginx", CgroupPath: "/system.slice/docker-" + id1 + ".scope", ContainerID: id1}},
		{5003, Process{PID: 101, Comm: "nginx", CgroupPath: "/system.slice/docker-" + id1 + ".scope", ContainerID: id1}},
		{5004, Process{PID: 42, Comm: "sshd", CgroupPath: "/system.slice/ssh.service"}},
		// No comm or cgroup file: the pid alone.
		{5005, Process{PID: 7}},
		// Container visible only in the v1 hierarchies.
		{5006, Process{PID: 300, Comm: "containerd-shim", CgroupPath: "/", ContainerID: id2}},
	}
	for _, c := range cases {
		got, ok := r.Lookup(c.inode, time.Now())
		if !ok || got != c.want {
			t.Errorf("Lookup(%d) = %+v, %v; want %+v", c.inode, got, ok, c.want)
		}
	}
	if s := r.Stats(); s.Scans != 1 || s.Sockets != 6 || !s.LastComplete {
		t.Errorf("after the lookups of known sockets: %+v; want 1 complete scan finding 6 sockets", s)
	}
	// Not sockets, malformed, or inode 0.
	for _, ino := range []uint64{0, 777, 999999} {
		if o, ok := r.Lookup(ino, time.Now()); ok {
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

// TestMissesAreRemembered: a socket no scan finds costs one scan, then none
// until its backoff ends, then one more, and the backoff doubles. Sockets
// known to exist before a scan started are answered by it, found or not,
// without another scan.
func TestMissesAreRemembered(t *testing.T) {
	r := NewResolver(fixture)
	before := time.Now()
	if _, ok := r.Lookup(4242, before); ok {
		t.Fatal("4242 found")
	}
	// Every lookup of 4242 must come before its backoff ends, firstRetry
	// after the scan: 10,000 pairs, or as many as half of it allows (an
	// emulated arm64 guest took 1.1 s for 10,000, and the next lookup
	// rightly scanned again).
	deadline := time.Now().Add(firstRetry / 2)
	n := 0
	for ; n < 10000 && time.Now().Before(deadline); n++ {
		if _, ok := r.Lookup(4242, time.Now()); ok {
			t.Fatal("4242 found")
		}
		if _, ok := r.Lookup(uint64(100000+n), before); ok {
			t.Fatal("unknown inode resolved")
		}
	}
	if n < 100 {
		t.Fatalf("only %d lookups in %v", n, firstRetry/2)
	}
	s := r.Stats()
	if s.Scans != 1 || s.Remembered != uint64(n) || s.Misses != n+1 {
		t.Fatalf("after %d lookups of a missing socket and of %d seen before the scan: %+v; "+
			"want 1 scan, %d answered from the misses, %d misses", n, n, s, n, n+1)
	}
	m := r.misses[4242]
	if m.wait != firstRetry {
		t.Fatalf("first backoff %v, want %v", m.wait, firstRetry)
	}
	for _, want := range []time.Duration{2 * firstRetry, 4 * firstRetry} {
		r.misses[4242] = miss{retry: time.Now(), wait: r.misses[4242].wait} // due, after the last scan started
		r.Lookup(4242, time.Now())
		if got := r.misses[4242].wait; got != want {
			t.Fatalf("backoff after a retry %v, want %v", got, want)
		}
	}
	if s := r.Stats(); s.Scans != 3 {
		t.Fatalf("%d scans, want one per retry: 3", s.Scans)
	}
	r.misses[4242] = miss{retry: time.Now(), wait: maxRetry}
	r.lastStart = time.Time{} // no scan answers the retry: it scans
	r.Lookup(4242, time.Now())
	if got := r.misses[4242].wait; got != maxRetry {
		t.Fatalf("backoff after the longest %v, want it to stay %v", got, maxRetry)
	}
}

// TestNewAndClosedSockets: a socket that appears after a scan is found by
// the next one, which a lookup of it makes; one that closes is forgotten by
// that scan.
func TestNewAndClosedSockets(t *testing.T) {
	root := copyTree(t, fixture)
	r := NewResolver(root)
	if _, ok := r.Lookup(5002, time.Now()); !ok {
		t.Fatal("5002 not found")
	}
	// A new socket in pid 101, and 5002 closed.
	if err := os.Symlink("socket:[6001]", filepath.Join(root, "101", "fd", "8")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "100", "fd", "4")); err != nil {
		t.Fatal(err)
	}
	if o, ok := r.Lookup(5002, time.Now()); !ok || o.PID != 100 {
		t.Fatalf("cached 5002 = %+v, %v; want the cached owner until a scan", o, ok)
	}
	seen := time.Now()
	if o, ok := r.Lookup(6001, seen); !ok || o.PID != 101 || o.Comm != "nginx" {
		t.Fatalf("Lookup(6001) = %+v, %v", o, ok)
	}
	if _, ok := r.Lookup(5002, seen); ok {
		t.Fatal("5002 still resolves after the scan that saw it closed")
	}
	if s := r.Stats(); s.Scans != 2 || s.ScanTime < s.LastScan || s.LastScan <= 0 {
		t.Fatalf("%+v; want 2 scans, timed", s)
	}
}

// TestScanBudget: with the budget spent, a lookup of an unknown socket
// answers at once without a scan, and is not remembered as a miss; with
// the budget back, it is found.
func TestScanBudget(t *testing.T) {
	root := copyTree(t, fixture)
	r := NewResolver(root)
	r.Lookup(5001, time.Now())
	if err := os.Symlink("socket:[6003]", filepath.Join(root, "101", "fd", "9")); err != nil {
		t.Fatal(err)
	}
	r.budget.credit = -time.Hour
	if _, ok := r.Lookup(6003, time.Now()); ok {
		t.Fatal("6003 found without a scan")
	}
	if s := r.Stats(); s.Scans != 1 || s.RateLimited != 1 || s.Misses != 0 {
		t.Fatalf("with the budget spent: %+v; want no scan, 1 rate-limited, no miss", s)
	}
	r.budget.credit = time.Millisecond
	if o, ok := r.Lookup(6003, time.Now()); !ok || o.PID != 101 {
		t.Fatalf("Lookup(6003) with a budget = %+v, %v", o, ok)
	}
}

// TestStormStaysWithinBudget: lookups of ever new unknown sockets, from
// several goroutines, scan no more than the budget allows: the burst, plus
// scanShare of the time they ran, plus one scan that may overdraw it.
func TestStormStaysWithinBudget(t *testing.T) {
	r := NewResolver(fixture)
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Uint64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < 600*time.Millisecond {
				r.Lookup(1<<40+next.Add(1), time.Now())
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	s := r.Stats()
	allowed := scanBurst + time.Duration(scanShare*float64(elapsed)) + s.LongestScan
	if s.ScanTime > allowed {
		t.Fatalf("%d scans took %v in %v, more than the budget's %v", s.Scans, s.ScanTime, elapsed, allowed)
	}
	if s.RateLimited == 0 && s.Misses == 0 {
		t.Fatalf("%+v: nothing was limited", s)
	}
	t.Logf("%d lookups in %v: %d scans taking %v (budget %v), %d misses, %d rate-limited",
		next.Load(), elapsed, s.Scans, s.ScanTime, allowed, s.Misses, s.RateLimited)
}

// TestRescanTimeLimit: a /proc scan cut short keeps what it did not reach
// from the previous snapshot, and the next scan resumes where it stopped.
func TestRescanTimeLimit(t *testing.T) {
	root := copyTree(t, fixture)
	r := NewResolver(root)
	if _, ok := r.Lookup(5001, time.Now()); !ok {
		t.Fatal("5001 not found")
	}
	// No time at all: the scan reaches no process.
	r.scanLimit = -time.Second
	if err := os.Symlink("socket:[6002]", filepath.Join(root, "300", "fd", "8")); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Lookup(6002, time.Now()); ok {
		t.Fatal("6002 found by a scan that read nothing")
	}
	s := r.Stats()
	if s.LastComplete || s.Partial != 1 || s.Sockets != 6 || s.Misses != 0 {
		t.Fatalf("after a scan with no time: %+v; want partial, the 6 old sockets kept, no miss", s)
	}
	if o, ok := r.Lookup(5004, time.Now()); !ok || o.Comm != "sshd" {
		t.Fatalf("old socket 5004 after a partial scan = %+v, %v", o, ok)
	}
	r.scanLimit = time.Second
	if o, ok := r.Lookup(6002, time.Now()); !ok || o.PID != 300 {
		t.Fatalf("Lookup(6002) with time = %+v, %v", o, ok)
	}
}

// TestCap: beyond maxEntries sockets the cache stops growing and says so.
func TestCap(t *testing.T) {
	r := NewResolver(fixture)
	r.maxEntries = 2
	r.Lookup(5001, time.Now())
	if s := r.Stats(); s.Sockets != 2 || s.Capped != 1 {
		t.Fatalf("with room for 2: %+v", s)
	}
}

func TestLookupConcurrent(t *testing.T) {
	r := NewResolver(fixture)
	before := time.Now()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				ino := uint64(5001 + (g+i)%6)
				if o, ok := r.Lookup(ino, time.Now()); !ok || o.PID == 0 {
					t.Errorf("Lookup(%d) = %+v, %v", ino, o, ok)
					return
				}
				r.Lookup(uint64(90000+i), before) // answered by the first scan
			}
		}()
	}
	wg.Wait()
	if s := r.Stats(); s.Scans != 1 {
		t.Errorf("%d scans for 8000 misses seen before the first scan, want 1", s.Scans)
	}
}

func TestMissingProcRoot(t *testing.T) {
	r := NewResolver(filepath.Join(t.TempDir(), "nothing"))
	if o, ok := r.Lookup(1, time.Now()); ok {
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
	want, _ := r.Lookup(5001, time.Now())
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
