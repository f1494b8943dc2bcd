// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"sync/atomic"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/owners"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// Drops go from the ring to Outputs.Drops in batches, through two
// goroutines, so that owner resolution is off the ring's path:
//
//	readDrops     reads the ring into a free batch and passes it on;
//	deliverDrops  gives each drop its owner and names, and hands the batch
//	              out. Known owners come from the resolver's cache; the
//	              unknown ones of a batch are asked of resolveOwners, and
//	              the batch waits for the answer until ownerWait after it
//	              was read, or until the reader runs out of free batches,
//	              then goes out with those owners unknown.
//	resolveOwners looks owners up, which may scan /proc for up to a second.
//
// batchesInFlight batches circulate, so memory is bounded. The reader
// waits only when all of them are in flight, that is when Outputs.Drops is
// slower than the ring (as before the split, when the kernel counts what
// the full ring cannot take in Counts.Lost); a wait for an owner is cut
// short as soon as the reader needs the batch. So a slow or huge /proc
// delays an owner's name, at most ownerWait, and never the ring's reading:
// no event is lost that a reader without owners would not lose.
const (
	batchesInFlight = 4
	ownerWait       = 500 * time.Millisecond
)

// batch is one read of the ring.
type batch struct {
	events []probe.Event
	n      int
	readAt time.Time
	owners []Owner // deliverDrops': the owner of each event
}

// dropPipe connects the reader, the deliverer and the resolver.
type dropPipe struct {
	free  chan *batch    // batches the reader may fill
	read  chan *batch    // batches read, in order; closed by the reader at the end
	hurry chan struct{}  // the reader waits for a free batch: stop waiting for owners
	jobs  chan *ownerJob // owners to look up; closed at Stop
	wait  time.Duration  // ownerWait; tests shorten it
}

func newDropPipe() *dropPipe {
	p := &dropPipe{
		free:  make(chan *batch, batchesInFlight),
		read:  make(chan *batch, batchesInFlight),
		hurry: make(chan struct{}, 1),
		jobs:  make(chan *ownerJob, batchesInFlight),
		wait:  ownerWait,
	}
	for range batchesInFlight {
		p.free <- &batch{events: make([]probe.Event, readBatch), owners: make([]Owner, readBatch)}
	}
	return p
}

// freeBatch returns a batch to read into, waiting for one when all are in
// flight, and then first telling the deliverer not to hold one for owners.
func (p *dropPipe) freeBatch() *batch {
	select {
	case b := <-p.free:
		return b
	default:
	}
	select {
	case p.hurry <- struct{}{}:
	default:
	}
	return <-p.free
}

// ownerJob is a batch's unknown socket inodes; resolveOwners fills found
// and closes done. A batch that stops waiting before done sets abandoned,
// never reads found, and resolveOwners stops looking its inodes up.
type ownerJob struct {
	inodes    []uint64
	seen      time.Time // the batch's read: every socket in it existed then
	found     map[uint64]owners.Process
	done      chan struct{}
	abandoned atomic.Bool
}

// deliverDrops gives the drops of each batch read their owners and names
// and hands them to Outputs.Drops, in the order read.
func (e *Engine) deliverDrops() {
	defer e.readers.Done()
	namer := NewNamer(e.src.Names)
	out := make([]Drop, 0, readBatch)
	for b := range e.pipe.read {
		e.ownersOf(b)
		out = out[:0]
		for i := range b.events[:b.n] {
			out = append(out, namer.Drop(&b.events[i], b.owners[i]))
		}
		e.out.Drops(out)
		namer.Reset()
		e.pipe.free <- b
	}
}

// ownersOf fills b.owners: from the cache, then, for the inodes it does not
// know, from resolveOwners if it answers in time (see dropPipe).
func (e *Engine) ownersOf(b *batch) {
	var job *ownerJob
	for i := range b.events[:b.n] {
		ino := b.events[i].SocketInode
		switch {
		case ino == 0:
			b.owners[i] = Owner{Status: OwnerNone}
		case e.src.Owners == nil:
			b.owners[i] = Owner{Status: OwnerUnknown}
		default:
			if o, ok := e.src.Owners.Cached(ino); ok {
				b.owners[i] = Owner{Status: OwnerProcess, Process: o}
				continue
			}
			b.owners[i] = Owner{Status: OwnerUnknown}
			if job == nil {
				job = &ownerJob{seen: b.readAt, found: map[uint64]owners.Process{}, done: make(chan struct{})}
			}
			job.inodes = append(job.inodes, ino) // repeats cost the resolver a map lookup
		}
	}
	if job == nil {
		return
	}
	select {
	case e.pipe.jobs <- job:
	default:
		return // the resolver has all the work it holds: these stay unknown
	}
	timer := time.NewTimer(time.Until(b.readAt.Add(e.pipe.wait)))
	defer timer.Stop()
	select {
	case <-job.done:
	case <-timer.C:
		job.abandoned.Store(true)
		return
	case <-e.pipe.hurry:
		job.abandoned.Store(true)
		return
	}
	for i := range b.events[:b.n] {
		if b.owners[i].Status != OwnerUnknown {
			continue
		}
		if o, ok := job.found[b.events[i].SocketInode]; ok {
			b.owners[i] = Owner{Status: OwnerProcess, Process: o}
		}
	}
}

// resolveOwners answers owner jobs until Stop closes the queue. A lookup
// rescans /proc at most as often as the resolver's rate limit allows;
// otherwise it answers at once. A job no batch waits for any more is left
// after the lookup under way: that one's scan has filled the cache.
func (e *Engine) resolveOwners() {
	defer e.resolvers.Done()
	tried := map[uint64]bool{}
	for job := range e.pipe.jobs {
		clear(tried)
		for _, ino := range job.inodes {
			if job.abandoned.Load() {
				break
			}
			if tried[ino] {
				continue
			}
			tried[ino] = true
			if o, ok := e.src.Owners.Lookup(ino, job.seen); ok {
				job.found[ino] = o
			}
		}
		close(job.done)
	}
}
