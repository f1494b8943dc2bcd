// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/owners"
	"github.com/tcpdrop/tcpdrop/internal/probe"

	"github.com/tcpdrop/tcpdrop/harness/fixture"
)

// sleepyOwners answers every lookup after a pause, as a slow /proc would,
// and knows nothing in advance.
type sleepyOwners time.Duration

func (s sleepyOwners) Lookup(uint64, time.Time) (owners.Process, bool) {
	time.Sleep(time.Duration(s)) // the slowness is what is measured
	return owners.Process{}, false
}
func (s sleepyOwners) Cached(uint64) (owners.Process, bool) { return owners.Process{}, false }

// BenchmarkEngineDrops: drops from a canned ring through the engine alone
// (reading, owners, names) to an Output that only counts them, per drop;
// with every owner cached, and with every owner unknown and each lookup
// taking 10 ms. read-ns/drop is the time until the ring was read to the
// end: with slow lookups the last batches can then still wait for their
// owners, up to ownerWait (500 ms), which ns/op includes.
func BenchmarkEngineDrops(b *testing.B) {
	known := tableOwners{}
	for ino := uint64(1); ino <= readBatch; ino++ {
		known[ino] = owners.Process{PID: int(ino), Comm: "server"}
	}
	for _, mode := range []struct {
		name   string
		owners Owners
	}{
		{"owners=cached", known},
		{"owners=slow", sleepyOwners(10 * time.Millisecond)},
	} {
		b.Run(mode.name, func(b *testing.B) {
			k := newCannedKernel()
			k.batches = make(chan []probe.Event, b.N/readBatch+1)
			template := eventsOf(readBatch, 1)
			for left := b.N; left > 0; left -= readBatch {
				k.batches <- template[:min(left, readBatch)]
			}
			e := New(Sources{Kernel: k, Names: fixture.LoadNames(b, NotAvailable), Owners: mode.owners}, DefaultOptions(), zap.NewNop())
			done := make(chan struct{})
			seen := 0
			b.ReportAllocs()
			b.ResetTimer()
			e.Start(Outputs{Drops: func(batch []Drop) {
				if seen += len(batch); seen == b.N {
					close(done)
				}
			}})
			start := time.Now()
			<-done
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "drops/s")
			b.ReportMetric(float64(k.emptied.Load()-start.UnixNano())/float64(b.N), "read-ns/drop")
			if err := e.Stop(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
