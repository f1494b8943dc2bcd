// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/owners"
	"github.com/tcpdrop/tcpdrop/internal/probe"

	"github.com/tcpdrop/tcpdrop/harness/fixture"
)

// TestRepeatsWithoutMetrics: with a logs pipeline alone (Drops and Repeats,
// no Counts) the engine still collects every interval, so that each
// interval's repeats go out, under their key's owner and names.
func TestRepeatsWithoutMetrics(t *testing.T) {
	k := newCannedKernel()
	k.counts = probe.Counts{ByKey: []probe.Count{
		{SocketInode: 777, Reason: 3, HasReason: true, Location: inTCPv4Rcv, Packets: 25, Repeats: 15},
		{Reason: 3, HasReason: true, Location: inTCPv4Rcv, Packets: 4}, // no repeats: no summary
	}, Repeated: 15}
	opts := DefaultOptions()
	opts.CollectionInterval = 100 * time.Millisecond
	server := owners.Process{PID: 4321, Comm: "server"}
	e := New(Sources{Kernel: k, Names: fixture.LoadNames(t, NotAvailable), Owners: tableOwners{777: server}}, opts, zap.NewNop())
	var mu sync.Mutex
	var got []Repeat
	e.Start(Outputs{Drops: func([]Drop) {}, Repeats: func(r []Repeat) { mu.Lock(); got = append(got, r...); mu.Unlock() }})
	waitUntil(t, 10*time.Second, "a repeat summary is handed out", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("repeats %+v, want one summary", got)
	}
	r := got[0]
	if r.Owner != (Owner{Status: OwnerProcess, Process: server}) || r.SocketInode != 777 || r.Reason != "NO_SOCKET" ||
		r.Function != "tcp_v4_rcv" || r.Location != "tcp_v4_rcv+0x63" || r.Repeats != 15 || !r.Until.After(r.Since) {
		t.Errorf("repeat %+v", r)
	}
}

// slowKernel takes its first counts late, as a kernel under a flood or a
// starved collector might.
type slowKernel struct {
	*cannedKernel
	once sync.Once
	late time.Duration
}

func (k *slowKernel) TakeCounts() (probe.Counts, error) {
	k.once.Do(func() { time.Sleep(k.late) }) // the lateness is what is measured
	return k.cannedKernel.TakeCounts()
}

// TestLateCollectionSaysSo: a collection that takes the kernel's counts
// late says by how much (Counts.Delay), and the next one, on time, says so
// too.
func TestLateCollectionSaysSo(t *testing.T) {
	const late = 300 * time.Millisecond
	k := &slowKernel{cannedKernel: newCannedKernel(), late: late}
	opts := DefaultOptions()
	opts.CollectionInterval = 100 * time.Millisecond
	e := New(Sources{Kernel: k, Names: fixture.LoadNames(t, NotAvailable)}, opts, zap.NewNop())
	delays := make(chan time.Duration, 100)
	e.Start(Outputs{Counts: func(c Counts, _ []Listener, _ time.Time) {
		select {
		case delays <- c.Delay:
		default:
		}
	}})
	first, second := <-delays, <-delays
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if first < late {
		t.Errorf("first collection's delay %v, want at least %v", first, late)
	}
	if second >= first {
		t.Errorf("second collection's delay %v, want less than the first's %v", second, first)
	}
}
