// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// churnPort is where the churn tests' connects go: an output rule drops
// their SYNs, each counted for its own socket.
const churnPort = 7070

// churnConnects makes n short-lived sockets in ns, each a connect to
// churnPort whose SYN the output rule drops, closed at once, and returns
// their socket inodes.
func churnConnects(ns *sandbox.Netns, n int) (map[uint64]bool, error) {
	fds, err := ns.StartConnects(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), churnPort), n)
	if err != nil {
		return nil, err
	}
	inodes := make(map[uint64]bool, n)
	for _, fd := range fds {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return nil, fmt.Errorf("fstat of a socket: %w", err)
		}
		inodes[st.Ino] = true
		_ = unix.Close(fd)
	}
	return inodes, nil
}

// packetsOfSockets sums the counts of the sockets in inodes.
func packetsOfSockets(c Counts, inodes map[uint64]bool) uint64 {
	var n uint64
	for _, k := range c.ByKey {
		if inodes[k.SocketInode] {
			n += k.Packets
		}
	}
	return n
}

// TestChurnIsCountedExactly: 100,000 drops from as many short-lived
// sockets, each its own key, with the default map and one of 512 keys, the
// counts taken after every few hundred sockets (the keys live between two
// collections): none uncounted, and the total is the firewall rule's own
// count.
func TestChurnIsCountedExactly(t *testing.T) {
	const sockets, perCollection = 100_000, 400
	for _, maxCounters := range []int{0, 512} {
		t.Run(fmt.Sprintf("max_counters=%d", maxCounters), func(t *testing.T) {
			p := openProbe(t, Options{CountOnly: true, MaxCounters: maxCounters})
			ns := sandbox.NewForTest(t)
			rule, err := ns.DropTCPPortOutput(churnPort)
			if err != nil {
				t.Fatal(err)
			}
			var counts Counts
			all := map[uint64]bool{}
			for made := 0; made < sockets; made += perCollection {
				inodes, err := churnConnects(ns, perCollection)
				if err != nil {
					t.Fatal(err)
				}
				for ino := range inodes {
					all[ino] = true
				}
				taken, err := p.TakeCounts()
				if err != nil {
					t.Fatal(err)
				}
				counts.add(taken)
			}
			dropped, err := rule.Packets()
			if err != nil {
				t.Fatal(err)
			}
			counted := packetsOfSockets(counts, all)
			missed := counts.Missed // since this probe opened
			t.Logf("%d sockets, the rule dropped %d, counted %d, uncounted %d; the kernel did not run the program %d times",
				len(all), dropped, counted, counts.Uncounted, missed)
			if len(all) < sockets || dropped < sockets {
				t.Fatalf("%d distinct sockets and %d drops, want %d of each at least", len(all), dropped, sockets)
			}
			// A slow guest retransmits some SYNs before their socket is
			// closed (100,705 drops for 100,000 sockets in an emulated
			// arm64 guest on a loaded host), from the timer's softirq,
			// which can interrupt the program's run for another drop on
			// that CPU: the kernel then skips it and counts it as a missed
			// run (as TestCountsTakenDuringAFlood allows).
			if counts.Uncounted != 0 || counted > dropped || counted+missed < dropped || (missed == 0 && counted != dropped) {
				t.Fatalf("counted %d, uncounted %d, missed %d: want the rule's %d, less at most the missed runs, none uncounted",
					counted, counts.Uncounted, missed, dropped)
			}
		})
	}
}

// TestCountsTakenDuringAFlood: drops keep coming from several threads while
// the counts are taken again and again: every drop the program ran for is
// counted once, in one of the takes, exactly as the firewall rule counted
// them.
func TestCountsTakenDuringAFlood(t *testing.T) {
	const senders, perSender = 4, 20_000
	// Room for every socket's key: this test is about the drops that race
	// the taking, not about a full map (TestChurnIsCountedExactly is), and a
	// fast flood outruns the takes on a quiet machine (a full default map
	// was seen: counted + uncounted = dropped, exact but not this test's
	// point).
	p := openProbe(t, Options{CountOnly: true, MaxCounters: 1 << 17})
	ns := sandbox.NewForTest(t)
	rule, err := ns.DropTCPPortOutput(churnPort)
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.TakeCounts()
	if err != nil {
		t.Fatal(err)
	}
	missedBefore := first.Missed
	var mu sync.Mutex
	all := map[uint64]bool{}
	var wg sync.WaitGroup
	var sendErr atomic.Pointer[error]
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for made := 0; made < perSender; made += 200 {
				inodes, err := churnConnects(ns, 200)
				if err != nil {
					sendErr.Store(&err)
					return
				}
				mu.Lock()
				for ino := range inodes {
					all[ino] = true
				}
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	var counts Counts
	takes, takesWithDrops := 0, 0
	for flooding := true; flooding; {
		select {
		case <-done:
			flooding = false // one more take, after the last drop
		default:
		}
		taken, err := p.TakeCounts()
		if err != nil {
			t.Fatal(err)
		}
		takes++
		if len(taken.ByKey) > 0 {
			takesWithDrops++
		}
		counts.add(taken)
	}
	if err := sendErr.Load(); err != nil {
		t.Fatal(*err)
	}
	dropped, err := rule.Packets()
	if err != nil {
		t.Fatal(err)
	}
	counted := packetsOfSockets(counts, all)
	missed := counts.Missed - missedBefore
	t.Logf("%d takes (%d with drops), %d sockets, the rule dropped %d, counted %d; the kernel did not run the program %d times",
		takes, takesWithDrops, len(all), dropped, counted, missed)
	if takesWithDrops < 5 {
		t.Fatalf("only %d takes during the flood: the test did not race them", takesWithDrops)
	}
	// A kernel whose tracing programs can be preempted (7.x here) does
	// not run the program for a drop on a CPU where it is already running
	// (for another of the senders): those drops are in the kernel's own
	// count of missed runs, not lost by the taking. Measured in a 7.3 VM:
	// counted + missed = dropped exactly, in every run.
	if counts.Uncounted != 0 || counted > dropped || counted+missed < dropped || (missed == 0 && counted != dropped) {
		t.Fatalf("counted %d, uncounted %d, missed %d: want the rule's %d, less at most the missed runs", counted, counts.Uncounted, missed, dropped)
	}
}

// churnProcess runs one churn process (the test binary, see churnChild)
// in ns, making perProcess drops, and returns its pid and the inodes of
// its sockets, once it has exited.
func churnProcess(ns *sandbox.Netns, self string, perProcess int) (int, []uint64, error) {
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), envChurnChild+"="+strconv.Itoa(perProcess), "GOMAXPROCS=1")
	var out []byte
	// Started from a thread inside ns, the process is born in it.
	err := ns.Do(func() (err error) {
		out, err = cmd.Output()
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("churn process: %w", err)
	}
	var inodes []uint64
	for _, line := range strings.Fields(string(out)) {
		ino, err := strconv.ParseUint(line, 10, 64)
		if err != nil {
			return 0, nil, fmt.Errorf("churn process printed %q: %w", line, err)
		}
		inodes = append(inodes, ino)
	}
	if len(inodes) != perProcess {
		return 0, nil, fmt.Errorf("churn process made %d sockets, want %d", len(inodes), perProcess)
	}
	return cmd.Process.Pid, inodes, nil
}

// maxChurnTime is the longest the process churn may take, projected from
// its first processes: 70 s here on the host, shared by six jobs, against
// more than 10 minutes, the test binary's whole time, in make
// test-kernels' guests under software emulation.
const maxChurnTime = 5 * time.Minute

// skipIfTooSlow skips the test where making the first processes took so
// long that all of them would take more than maxChurnTime.
func skipIfTooSlow(t *testing.T, took time.Duration, made, all int) {
	t.Helper()
	if projected := took * time.Duration(all) / time.Duration(made); projected > maxChurnTime {
		t.Skipf("this machine makes processes too slowly for the churn: %d took %v, %d would take about %v, more than %v "+
			"(as under qemu's software emulation; TestChurnIsCountedExactly counts 100,000 short-lived sockets on this kernel)",
			made, took.Round(time.Millisecond), all, projected.Round(time.Second), maxChurnTime)
	}
}

// TestChurnOfProcessesIsCountedExactly: 100,000 drops from 20,000
// short-lived processes, each making 5 drops (connects whose SYNs a
// firewall rule drops) and exiting. Two programs count them at once: one
// with the default map, its counts taken after every 2,000 processes
// (10,000 keys), and one with max_counters 512, taken after every 80
// (400 keys). Each counts every drop, as many as the rule dropped, none
// uncounted: a process that was on the CPU at a drop holds no key.
func TestChurnOfProcessesIsCountedExactly(t *testing.T) {
	const processes, perProcess, workers = 20_000, 5, 4
	const smallEvery, defaultEvery = 80, 2000
	small := openProbe(t, Options{CountOnly: true, MaxCounters: 512})
	def := openProbe(t, Options{CountOnly: true})
	ns := sandbox.NewForTest(t)
	rule, err := ns.DropTCPPortOutput(churnPort)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	var smallCounts, defCounts Counts
	take := func(p *Probe, into *Counts) {
		taken, err := p.TakeCounts()
		if err != nil {
			t.Fatal(err)
		}
		into.add(taken)
	}
	inodes := make(map[uint64]bool, processes*perProcess)
	pids := map[int]bool{}
	start := time.Now()
	for made := 0; made < processes; made += smallEvery {
		type result struct {
			pid    int
			inodes []uint64
			err    error
		}
		jobs, results := make(chan struct{}), make(chan result)
		for range workers {
			go func() {
				for range jobs {
					pid, inos, err := churnProcess(ns, self, perProcess)
					results <- result{pid, inos, err}
				}
			}()
		}
		go func() {
			for range smallEvery {
				jobs <- struct{}{}
			}
			close(jobs)
		}()
		for range smallEvery {
			r := <-results
			if r.err != nil {
				t.Fatal(r.err)
			}
			pids[r.pid] = true
			for _, ino := range r.inodes {
				inodes[ino] = true
			}
		}
		if made == 0 {
			skipIfTooSlow(t, time.Since(start), smallEvery, processes)
		}
		take(small, &smallCounts)
		if (made+smallEvery)%defaultEvery == 0 {
			take(def, &defCounts)
		}
	}
	take(def, &defCounts)
	dropped, err := rule.Packets()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d processes (%d distinct pids) in %v, %d sockets; the rule dropped %d", processes, len(pids), time.Since(start).Round(time.Millisecond), len(inodes), dropped)
	if len(inodes) < processes*perProcess || dropped < processes*perProcess {
		t.Fatalf("%d distinct sockets and %d drops, want %d of each at least", len(inodes), dropped, processes*perProcess)
	}
	for _, c := range []struct {
		name   string
		counts Counts
	}{{"default map", defCounts}, {"max_counters=512", smallCounts}} {
		counted := packetsOfSockets(c.counts, inodes)
		t.Logf("%s: counted %d, uncounted %d", c.name, counted, c.counts.Uncounted)
		if c.counts.Uncounted != 0 || counted != dropped {
			t.Errorf("%s: counted %d, uncounted %d: want the rule's %d, none uncounted", c.name, counted, c.counts.Uncounted, dropped)
		}
	}
}
