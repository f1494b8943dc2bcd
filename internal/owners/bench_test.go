// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"net"
	"testing"
	"time"

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
	if _, ok := r.Lookup(ino); !ok {
		b.Fatal("own socket not found")
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := r.Lookup(ino); !ok {
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
		r.rescan()
	}
	s := r.Stats()
	b.ReportMetric(float64(s.Sockets), "sockets")
	b.ReportMetric(float64(len(procfs.PIDs("/proc"))), "procs")
}

// BenchmarkLookupMissStorm: unknown inodes as fast as they come; rescans are
// rate-limited, so most misses cost no more than a hit plus a lock.
func BenchmarkLookupMissStorm(b *testing.B) {
	r := NewResolver("/proc")
	r.Lookup(1)
	b.ReportAllocs()
	start := time.Now()
	i := uint64(0)
	for b.Loop() {
		i++
		r.Lookup(1<<40 + i)
	}
	s := r.Stats()
	b.ReportMetric(float64(s.Scans)/time.Since(start).Seconds(), "scans/s")
}
