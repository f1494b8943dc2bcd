// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"testing"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/owners"
	"github.com/tcpdrop/tcpdrop/internal/probe"

	"github.com/tcpdrop/tcpdrop/harness/fixture"
)

// TestSeriesExpiry: the series of an owner whose socket stops dropping (it
// exited) is reported with its exact total until it has not grown for the
// expiry, then no more; a series that keeps growing stays; one that comes
// back after it expired starts from zero, from the collection before.
func TestSeriesExpiry(t *testing.T) {
	const expiry = 30 * time.Second
	server := owners.Process{PID: 4321, Comm: "server"}
	worker := owners.Process{PID: 99, Comm: "worker"}
	tally := NewTally(fixture.LoadNames(t, NotAvailable), tableOwners{777: server, 888: worker}, expiry)
	drops := func(ino, n uint64) probe.Count {
		return probe.Count{SocketInode: ino, Reason: 3, HasReason: true, Location: inTCPv4Rcv, Packets: n}
	}
	of := func(c Counts, pid int) (Count, bool) {
		for _, k := range c.ByKey {
			if k.Status == OwnerProcess && k.Process.PID == pid {
				return k, true
			}
		}
		return Count{}, false
	}
	t0 := time.Unix(1_000_000, 0)
	tally.Add(probe.Counts{ByKey: []probe.Count{drops(777, 5), drops(888, 1)}}, t0)
	tally.Add(probe.Counts{ByKey: []probe.Count{drops(777, 2)}}, t0.Add(10*time.Second))
	// The server exits: no more drops of its socket.
	for at := 20 * time.Second; at < 40*time.Second; at += 10 * time.Second {
		c := tally.Add(probe.Counts{ByKey: []probe.Count{drops(888, 1)}}, t0.Add(at))
		if s, ok := of(c, 4321); !ok || s.Packets != 7 || !s.Start.IsZero() {
			t.Fatalf("at %v: the server's series %+v (%v), want 7 since the start until the expiry", at, s, ok)
		}
	}
	c := tally.Add(probe.Counts{ByKey: []probe.Count{drops(888, 1)}}, t0.Add(40*time.Second))
	if s, ok := of(c, 4321); ok {
		t.Fatalf("the server's series %+v is still reported 30s after its last drop", s)
	}
	if s, ok := of(c, 99); !ok || s.Packets != 4 {
		t.Fatalf("the worker's series %+v (%v), want its 4 drops: it kept growing", s, ok)
	}
	c = tally.Add(probe.Counts{ByKey: []probe.Count{drops(777, 3)}}, t0.Add(50*time.Second))
	if s, ok := of(c, 4321); !ok || s.Packets != 3 || !s.Start.Equal(t0.Add(40*time.Second)) {
		t.Fatalf("the server's series back: %+v (%v), want 3 since the collection at 40s", s, ok)
	}
}

// countingOwners is tableOwners that counts its lookups.
type countingOwners struct {
	tableOwners
	lookups map[uint64]int
}

func (c *countingOwners) Lookup(ino uint64, seen time.Time) (owners.Process, bool) {
	c.lookups[ino]++
	return c.tableOwners.Lookup(ino, seen)
}

// TestTallyRemembersOwnersOfSocketsThatKeepDropping: a socket that drops in
// every collection has its owner looked up once; one that skips a whole
// collection is forgotten and looked up again; and however many sockets
// come and go, the owners remembered are at most those of two collections.
func TestTallyRemembersOwnersOfSocketsThatKeepDropping(t *testing.T) {
	own := &countingOwners{tableOwners: tableOwners{777: {PID: 1}, 888: {PID: 2}}, lookups: map[uint64]int{}}
	tally := NewTally(fixture.LoadNames(t, NotAvailable), own, 0)
	drop := func(ino uint64) probe.Count {
		return probe.Count{SocketInode: ino, Reason: 3, HasReason: true, Location: inTCPv4Rcv, Packets: 1}
	}
	t0 := time.Unix(1_000_000, 0)
	tally.Add(probe.Counts{ByKey: []probe.Count{drop(777), drop(888)}}, t0)
	tally.Add(probe.Counts{ByKey: []probe.Count{drop(777)}}, t0.Add(time.Second))
	tally.Add(probe.Counts{ByKey: []probe.Count{drop(777)}}, t0.Add(2*time.Second))
	tally.Add(probe.Counts{ByKey: []probe.Count{drop(777), drop(888)}}, t0.Add(3*time.Second))
	if own.lookups[777] != 1 || own.lookups[888] != 2 {
		t.Fatalf("lookups %v: want 777 once (it dropped in every collection), 888 twice (it skipped two)", own.lookups)
	}
	const perCollection = 100
	for n := range 1000 {
		var c probe.Counts
		for i := range perCollection {
			c.ByKey = append(c.ByKey, drop(uint64(10_000+n*perCollection+i)))
		}
		tally.Add(c, t0.Add(time.Duration(4+n)*time.Second))
	}
	if remembered := len(tally.byInode) + len(tally.prevByInode); remembered > 2*perCollection {
		t.Fatalf("%d owners remembered after 100,000 sockets of 100 a collection: want those of two collections at most", remembered)
	}
}
