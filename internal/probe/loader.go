// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
)

// Probe is the loaded and attached kernel program.
type Probe struct {
	objs tcpdropObjects
	link link.Link
	// resetLink: the reset program, attached (resets.go); nil when not.
	resetLink link.Link
	ring      *ringbuf.Reader // nil in CountOnly mode
	flush     time.Duration
	clock     wallClock

	// retransmitLinks: the retransmission programs, attached
	// (retransmits.go); none when not.
	retransmitLinks []link.Link
	// connectLink: the failed-connect program, attached (connects.go); nil
	// when not.
	connectLink link.Link

	// rec is reused by every read so that reading allocates nothing.
	rec ringbuf.Record

	// countingInB: the program counts into TcpdropCountsB (TakeCounts).
	countingInB bool
	// filtered is the drops the filters kept from the ring since Open, as
	// TakeCounts found them in the count maps; repeated, the repeats
	// (Options.LogRecordsPerKey).
	filtered, repeated uint64
	// perKey is Options.LogRecordsPerKey, 0 when no event is sent at all.
	perKey uint64

	// listenProg and listenLink: the listen-state program, attached
	// (listen_state.go); nil when not needed, or listenStateErr says why not.
	listenProg *ebpf.Program
	listenLink link.Link
	// closedListeners: the listeners that stopped listening, as the
	// listen-state program saw them stop (closed_listeners.go).
	closedListeners *ebpf.Map
	// sockBirths: who made each socket connect or listen, or closed it with
	// a reset (births.go); the objects' map, set when the listen-state
	// program runs.
	sockBirths     *ebpf.Map
	listenStateErr error

	// listeners mirrors the kernel's listener table (SetListeners).
	listeners map[tcpdropListenerKey]uint64
	// socksIter, on kernels that pass no socket, finds the listeners'
	// kernel sockets (see listener_socks.go); nil otherwise.
	socksIter *link.Iter

	detachOnce sync.Once
	detachErr  error
	detached   atomic.Bool // nothing new can arrive: reads need not wait
	closeOnce  sync.Once
	closeErr   error
	closed     chan struct{}
	// reading is held by ReadBatch while it uses the ring, and taken by
	// Close before it unmaps the ring: the reader's AvailableBytes reads
	// the mapped memory without the ring reader's own lock.
	reading sync.RWMutex
}

// Open loads the kernel program, attaches it to kfree_skb and starts
// counting. The caller must Close the probe.
func Open(opts Options) (*Probe, error) {
	opts = opts.withDefaults()
	if err := checkKernel(); err != nil {
		return nil, err
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. Failing to
	// raise it is not fatal: newer kernels do not need it.
	_ = rlimit.RemoveMemlock()

	spec, err := loadTcpdrop()
	if err != nil {
		return nil, fmt.Errorf("tcp_drop: reading the embedded kernel program: %w", err)
	}
	if err := configure(spec, opts); err != nil {
		return nil, err
	}

	p := &Probe{flush: opts.FlushInterval, closed: make(chan struct{})}
	if !opts.CountOnly {
		p.perKey = uint64(opts.LogRecordsPerKey)
	}
	if err := loadObjects(spec, opts, &p.objs); err != nil {
		return nil, explainLoadError(err)
	}
	p.link, err = link.AttachTracing(link.TracingOptions{Program: p.objs.TcpdropKfree})
	if err != nil {
		p.objs.Close()
		return nil, explainAttachError(err)
	}
	for _, attach := range []func(Options) error{p.attachResets, p.attachRetransmits, p.attachFailedConnects, p.attachListenerSocks} {
		if err := attach(opts); err != nil {
			p.abandon()
			return nil, err
		}
	}
	p.attachListenState(opts)
	if !opts.CountOnly {
		p.ring, err = ringbuf.NewReader(p.objs.TcpdropEvents)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("tcp_drop: opening the event ring buffer: %w", err)
		}
	}
	p.clock.sync()
	return p, nil
}

// abandon undoes an Open that failed after the objects were loaded: it
// closes the links attached so far and the objects.
func (p *Probe) abandon() {
	for _, l := range append([]link.Link{p.link, p.resetLink, p.connectLink}, p.retransmitLinks...) {
		if l != nil {
			l.Close()
		}
	}
	p.objs.Close()
}

// configure sizes the maps and sets the program's constants.
func configure(spec *ebpf.CollectionSpec, opts Options) error {
	var s tcpdropSpecs
	if err := spec.Assign(&s); err != nil {
		return fmt.Errorf("tcp_drop: the embedded kernel program does not match its loader: %w", err)
	}
	ringSize := uint32(opts.RingBufferSize)
	if opts.CountOnly {
		ringSize = uint32(os.Getpagesize()) // the map must exist; nothing is written to it
	}
	s.TcpdropEvents.MaxEntries = ringSize
	s.TcpdropCountsA.MaxEntries = uint32(opts.MaxCounters)
	s.TcpdropCountsB.MaxEntries = uint32(opts.MaxCounters)
	if s.TcpdropCounts.InnerMap != nil {
		s.TcpdropCounts.InnerMap.MaxEntries = uint32(opts.MaxCounters)
	}
	if err := s.WakeupBytes.Set(uint64(opts.WakeupBytes)); err != nil {
		return fmt.Errorf("tcp_drop: setting wakeup_bytes: %w", err)
	}
	if err := s.MaxEventsPerSec.Set(uint64(opts.MaxLogRecordsPerSecond)); err != nil {
		return fmt.Errorf("tcp_drop: setting max_log_records_per_second (max_events_per_sec in bpf/tcpdrop/events.h): %w", err)
	}
	if err := s.RecordsPerKey.Set(uint64(opts.LogRecordsPerKey)); err != nil {
		return fmt.Errorf("tcp_drop: setting log_records_per_key (records_per_key in bpf/tcpdrop/record.h): %w", err)
	}
	if err := s.SkipReason.Set(opts.SkipReason); err != nil {
		return fmt.Errorf("tcp_drop: setting skip_reason: %w", err)
	}
	if err := s.MatchListeners.Set(boolByte(opts.MatchListeners)); err != nil {
		return fmt.Errorf("tcp_drop: setting match_listeners: %w", err)
	}
	if err := s.SkipQueueFull.Set(boolByte(opts.SkipQueueFull)); err != nil {
		return fmt.Errorf("tcp_drop: setting skip_queue_full: %w", err)
	}
	s.TcpdropListeners.MaxEntries = MaxListeners
	s.TcpdropListenerSocks.MaxEntries = MaxListeners
	s.TcpdropConns.MaxEntries = MaxConns
	s.TcpdropSockBirths.MaxEntries = 1 // the map must exist; nothing reads it
	if opts.SocketBirths {
		s.TcpdropSockBirths.MaxEntries = MaxListeners
	}
	if err := s.KernelStack.Set(boolByte(opts.KernelStack)); err != nil {
		return fmt.Errorf("tcp_drop: setting kernel_stack: %w", err)
	}
	if err := s.CountOnly.Set(boolByte(opts.CountOnly)); err != nil {
		return fmt.Errorf("tcp_drop: setting count_only: %w", err)
	}
	return setFilter(&s, opts.Filter)
}

// Detach stops the program from seeing new drops and ends a ReadBatch
// that waits. Events already in the ring can still be read, and the counts
// still read back: a caller that drains before Close loses nothing. Safe to
// call twice and before Close.
func (p *Probe) Detach() error {
	p.detachOnce.Do(func() {
		p.detached.Store(true)
		var errs []error
		if p.link != nil {
			errs = append(errs, p.link.Close())
		}
		if p.resetLink != nil {
			errs = append(errs, p.resetLink.Close())
		}
		errs = append(errs, p.closeRetransmitLinks())
		if p.connectLink != nil {
			errs = append(errs, p.connectLink.Close())
		}
		if p.listenLink != nil {
			errs = append(errs, p.listenLink.Close())
		}
		if p.ring != nil {
			errs = append(errs, p.ring.Flush())
		}
		p.detachErr = errors.Join(errs...)
	})
	return p.detachErr
}

// Close detaches and unloads everything. It is safe to call twice and
// concurrently with ReadBatch, which then returns ErrClosed.
func (p *Probe) Close() error {
	p.closeOnce.Do(func() {
		close(p.closed)
		errs := []error{p.Detach()} // wakes a ReadBatch waiting for events
		if p.ring != nil {
			p.reading.Lock()
			errs = append(errs, p.ring.Close())
			p.reading.Unlock()
		}
		if p.socksIter != nil {
			errs = append(errs, p.socksIter.Close())
		}
		if p.listenProg != nil {
			errs = append(errs, p.listenProg.Close(), p.closedListeners.Close())
		}
		errs = append(errs, p.objs.Close())
		p.closeErr = errors.Join(errs...)
	})
	return p.closeErr
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
