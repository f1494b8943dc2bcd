// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"fmt"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// BenchmarkLookupCached is the cost of resolving a known socket: what the
// receiver pays per drop event.
func BenchmarkLookupCached(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ino := socketInodeOf(b, l)
	r := NewResolver("/proc")
	if _, ok := r.Lookup(ino, time.Now()); !ok {
		b.Fatal("own socket not found")
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := r.Lookup(ino, time.Now()); !ok {
				b.Fatal("lost")
			}
		}
	})
}

// BenchmarkRescan is the cost of one full scan of this host's /proc.
func BenchmarkRescan(b *testing.B) {
	r := NewResolver("/proc")
	b.ReportAllocs()
	for b.Loop() {
		r.scan()
	}
	s := r.Stats()
	b.ReportMetric(float64(s.Sockets), "sockets")
	b.ReportMetric(float64(len(procfs.PIDs("/proc"))), "procs")
}

// BenchmarkLookupMissStorm: lookups of sockets no scan finds, as fast as
// they come: each new one known to exist before the last scan (a batch of
// drops to closed sockets), and one missing socket asked again and again (a
// listener whose holder is out of reach). The scan answered them all: they
// cost a lock and a map, and no scan.
func BenchmarkLookupMissStorm(b *testing.B) {
	r := NewResolver("/proc")
	before := time.Now()
	r.Lookup(1, before)
	b.ReportAllocs()
	start := time.Now()
	i := uint64(0)
	for b.Loop() {
		i++
		r.Lookup(1<<40+i, before)
		r.Lookup(1, time.Now())
	}
	s := r.Stats()
	b.ReportMetric(float64(s.Scans-1)/time.Since(start).Seconds(), "scans/s")
}

// BenchmarkScanHost is the cost of one full scan on a host with 50
// processes holding 20,000 or 100,000 TCP sockets between them (root: the
// descriptor limit is raised), by /proc and by the kernel's iterator, side
// by side. cpu-ms/op is this process's CPU time, the kernel's work for it
// included: what the collector pays, on a shared machine.
func BenchmarkScanHost(b *testing.B) {
	for _, sockets := range []int{20000, 100000} {
		b.Run(fmt.Sprintf("sockets=%d", sockets), func(b *testing.B) {
			roottest.Require(b)
			startHolders(b, 50, sockets)
			k, err := openKernelScanner()
			if err != nil {
				b.Fatal(err)
			}
			defer k.close()
			scans := map[string]func() int{
				"proc": func() int {
					return len(scanSockets("/proc", 0, time.Now().Add(time.Hour), 1<<30).sockets)
				},
				"kernel": func() int {
					res, err := k.scan(1 << 30)
					if err != nil {
						b.Fatal(err)
					}
					return len(res.sockets)
				},
			}
			for _, source := range []string{"proc", "kernel"} {
				b.Run("source="+source, func(b *testing.B) {
					n := 0
					cpu := cpuTime()
					for b.Loop() {
						n = scans[source]()
					}
					b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
					b.ReportMetric(float64(n), "sockets")
				})
			}
		})
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIdleStubborn: 50 processes hold 20,000 sockets, and once a
// second, as a listen-queue poll would, a socket no process can be found
// holding is looked up, for 20 s: the resolver's CPU over that time, on
// /proc (the misses' backoff makes it fall further after the first minute).
func BenchmarkIdleStubborn(b *testing.B) {
	startHolders(b, 50, 20000)
	r := NewResolver("/proc")
	for b.Loop() {
		cpu := cpuTime()
		start := time.Now()
		for i := 0; time.Since(start) < 20*time.Second; i++ {
			r.Lookup(1<<50, time.Now())
			time.Sleep(time.Until(start.Add(time.Duration(i+1) * time.Second))) // paced: once a second
		}
		b.ReportMetric(100*float64(cpuTime()-cpu)/float64(time.Since(start)), "%cpu")
	}
}
