// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// Flood runs opts in a namespace of its own, closed when it returns.
func Flood(ctx context.Context, opts Options) (Report, error) {
	ns, err := sandbox.New()
	if err != nil {
		return Report{}, fmt.Errorf("dropgen: network namespace: %w", err)
	}
	defer ns.Close()
	return Run(ctx, ns, opts)
}

// Run sends what opts says to a closed port on loopback inside ns, which
// the caller owns (a monitor may watch the same namespace). It returns when
// the plan is done, the duration is over or ctx ends; the report is valid in
// every case, also with an error.
func Run(ctx context.Context, ns *sandbox.Netns, opts Options) (Report, error) {
	o, err := opts.normalize()
	if err != nil {
		return Report{}, err
	}
	if ns == nil {
		return Report{}, errors.New("dropgen: no network namespace")
	}
	if o.Family == 6 && !ns.HasIPv6() {
		return Report{}, errors.New("dropgen: the namespace has no ::1 (IPv6 disabled?)")
	}
	fds, ports, err := openAll(ns, o)
	if err != nil {
		return Report{}, err
	}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	before, cerr := ReadCounters(ns)

	var stop atomic.Bool
	defer context.AfterFunc(ctx, func() { stop.Store(true) })()
	deadline := floodDeadline(o)
	workers := newWorkers(o, fds, ports)
	start := time.Now()
	errs := runWorkers(workers, start, deadline, &stop)
	elapsed := time.Since(start)

	r := Report{
		Family: o.Family, Port: o.Port, Kind: o.Kind.String(), Target: o.Rate,
		Workers: o.Workers, Netns: ns.Inode(), Elapsed: elapsed,
	}
	complete := r.addWorkers(workers)
	if deadline > 0 && elapsed >= deadline {
		complete = true
	}
	r.Interrupted = ctx.Err() != nil && !complete
	r.Drops = r.Sent * o.Kind.DropsPerPacket()
	if cerr == nil {
		if after, err := settle(ns, before, r.Sent*o.Kind.DropsPerPacket()); err == nil {
			d := after.Sub(before)
			r.Kernel = &d
		}
	}
	return r, errors.Join(errs...)
}

// floodDeadline is when the workers stop: at the duration, unless a rate
// is set, whose schedule already ends there (a cut would lose slots).
func floodDeadline(o Options) time.Duration {
	if o.Rate > 0 {
		return 0
	}
	return o.Duration
}

// newWorkers makes one worker per socket, each pacing its share of the
// flood's slots.
func newWorkers(o Options, fds []int, ports []uint16) []*worker {
	total := slots(o)
	pk := newPacker(o.Family, uint16(o.Port), o.Kind, ports, o.badChecksum)
	workers := make([]*worker, len(fds))
	for i, fd := range fds {
		workers[i] = &worker{
			fd:     fd,
			pk:     pk,
			b:      newBatch(o.Batch, pk.tmpl),
			p:      newPacer(uint64(o.Rate), total, o.Workers, i, o.Slack),
			stride: uint64(o.Workers),
		}
	}
	return workers
}

// runWorkers runs every worker from start until its schedule ends, the
// deadline passes or stop is set, and returns each worker's error.
func runWorkers(workers []*worker, start time.Time, deadline time.Duration, stop *atomic.Bool) []error {
	errs := make([]error, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() { errs[i] = w.run(start, deadline, stop) })
	}
	wg.Wait()
	return errs
}

// addWorkers adds up what the workers sent and the errors they met, and
// tells whether every worker finished its schedule.
func (r *Report) addWorkers(workers []*worker) (complete bool) {
	complete = true
	for _, w := range workers {
		r.Sent += w.t.sent
		r.Errors += w.t.errors
		r.Behind += w.t.behind
		r.MaxLag = max(r.MaxLag, w.t.maxLag)
		for e, n := range w.t.errnos {
			if r.ErrorsBy == nil {
				r.ErrorsBy = map[string]uint64{}
			}
			r.ErrorsBy[errnoName(e)] += n
		}
		complete = complete && w.p.done()
	}
	return complete
}

// errnoName names an errno for the report; 0 marks a send that took no
// message yet gave no error.
func errnoName(e unix.Errno) string {
	if name := unix.ErrnoName(e); name != "" {
		return name
	}
	return fmt.Sprintf("errno%d", int(e))
}

// openAll checks the namespace's listeners and opens one socket per worker
// inside it; sockets keep their namespace wherever they are used later.
func openAll(ns *sandbox.Netns, o Options) (fds []int, ports []uint16, err error) {
	err = ns.Do(func() error {
		busy, err := listening()
		if err != nil {
			return err
		}
		if busy[uint16(o.Port)] && !o.Firewalled {
			return fmt.Errorf("dropgen: port %d has a listener in the namespace; pick a closed one", o.Port)
		}
		ports = sourcePorts(o.Port, busy)
		for range o.Workers {
			fd, err := openRaw(o.Family)
			if err != nil {
				return err
			}
			fds = append(fds, fd)
		}
		return nil
	})
	if err != nil {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, nil, err
	}
	return fds, ports, nil
}

// ReadCounters reads the namespace's TCP and IP counters.
func ReadCounters(ns *sandbox.Netns) (Counters, error) {
	m, err := ns.Netstat()
	if err != nil {
		return Counters{}, fmt.Errorf("dropgen: counters: %w", err)
	}
	return fromNetstat(m), nil
}

// settle reads the counters until the segments sent have all been received
// (wantSegs more Tcp:InSegs) or they stop moving: packets handed to the
// kernel may still sit in a backlog that ksoftirqd drains.
func settle(ns *sandbox.Netns, before Counters, wantSegs uint64) (Counters, error) {
	var last Counters
	still := 0
	for range 200 {
		c, err := ReadCounters(ns)
		if err != nil {
			return c, err
		}
		if c.Sub(before).TCPInSegs >= wantSegs {
			return c, nil
		}
		if c == last {
			still++
			if still == 3 {
				return c, nil
			}
		} else {
			still = 0
		}
		last = c
		time.Sleep(time.Millisecond)
	}
	return last, nil
}
