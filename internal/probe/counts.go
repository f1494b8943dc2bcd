// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// TakeCounts moves the kernel's exact counts out of the kernel: it returns
// the drops counted since the last TakeCounts (since Open, the first time),
// summed over CPUs, and leaves the kernel's count map empty. The loss
// counters (Uncounted, Lost, Shed, Filtered, Repeated, Missed) are
// cumulative since Open. Not safe for concurrent use.
//
// Why no drop is lost or counted twice: the program finds the map it counts
// into in tcpdrop_counts, once per drop, and uses it only within that run.
// TakeCounts puts the other, empty map there. The kernel's update of an
// array of maps returns to user space only after an RCU grace period
// (maybe_wait_bpf_programs in kernel/bpf/syscall.c, since 4.20), and every
// run of a tracing program is one RCU read-side section: when the update
// returns, each drop is in the old map or will be counted in the new one,
// and nothing writes the old map any more. Its entries are then read and
// deleted with no writer to race, and the map is empty when the next
// TakeCounts switches back to it. The count slots in front of the maps
// (bpf/tcpdrop/counts.h, count_slots) are switched and emptied the same way.
func (p *Probe) TakeCounts() (Counts, error) {
	select {
	case <-p.closed:
		return Counts{}, ErrClosed
	default:
	}
	old, next := p.objs.TcpdropCountsA, p.objs.TcpdropCountsB
	oldSlots, nextSlots := p.objs.TcpdropSlotsA, p.objs.TcpdropSlotsB
	if p.countingInB {
		old, next = next, old
		oldSlots, nextSlots = nextSlots, oldSlots
	}
	// The slots and the map are switched at once, each update waiting for
	// its grace period (concurrent waits share one, so a collection under
	// load is not held up twice). A run in between counts in the new slots
	// or the old map, each drained only once nothing writes it.
	slotsErr := make(chan error, 1)
	go func() { slotsErr <- p.objs.TcpdropSlots.Update(uint32(0), nextSlots, ebpf.UpdateAny) }()
	mapErr := p.objs.TcpdropCounts.Update(uint32(0), next, ebpf.UpdateAny)
	if err := <-slotsErr; err != nil {
		return Counts{}, fmt.Errorf("tcp_drop: switching the counter slots: %w", err)
	}
	if mapErr != nil {
		return Counts{}, fmt.Errorf("tcp_drop: switching the counter maps: %w", mapErr)
	}
	p.countingInB = !p.countingInB

	var c Counts
	byKey, err := drain(old, p.perKey)
	if err != nil {
		return Counts{}, err
	}
	inSlots, err := drainSlots(oldSlots, p.perKey)
	if err != nil {
		return Counts{}, err
	}
	byKey = merge(byKey, inSlots)
	for _, cnt := range byKey {
		if cnt.Filtered {
			p.filtered += cnt.Packets
		}
		p.repeated += cnt.Repeats
	}
	c.ByKey, c.Filtered, c.Repeated = byKey, p.filtered, p.repeated
	if err := p.readLosses(&c); err != nil {
		return Counts{}, err
	}
	return c, nil
}

// drain reads out and empties a count map the program no longer writes. A
// key's count on a CPU is how many of its drops that CPU saw in the
// interval; past perKey (0: no limit) they were repeats, sent as no event.
// The filtered keys' packets are not repeats: none of them is sent (the
// same Count may come twice, once filtered, once not, when a port filter
// splits it).
func drain(m *ebpf.Map, perKey uint64) (out []Count, err error) {
	var keys []tcpdropCountKey
	var key tcpdropCountKey
	var perCPU []uint64
	it := m.Iterate()
	for it.Next(&key, &perCPU) {
		cnt := Count{Kind: Kind(key.Kind), SocketInode: key.SockIno, Reason: key.Reason, HasReason: key.HasReason != 0, State: TCPState(key.State),
			Location: key.Location, Filtered: key.Filtered != 0}
		for _, v := range perCPU {
			cnt.Packets += v
			if perKey > 0 && !cnt.Filtered && v > perKey {
				cnt.Repeats += v - perKey
			}
		}
		out = append(out, cnt)
		keys = append(keys, key)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("tcp_drop: reading the counter map: %w", err)
	}
	if len(keys) == 0 {
		return out, nil
	}
	if _, err := m.BatchDelete(keys, nil); err != nil {
		if !errors.Is(err, ebpf.ErrNotSupported) {
			return nil, fmt.Errorf("tcp_drop: emptying the counter map: %w", err)
		}
		for i := range keys {
			if err := m.Delete(&keys[i]); err != nil {
				return nil, fmt.Errorf("tcp_drop: emptying the counter map: %w", err)
			}
		}
	}
	return out, nil
}

// drainSlots reads out and empties the count slots the program no longer
// writes: each CPU's slot holds one key's count, or nothing. Repeats are
// counted per CPU and slot, as the program decided them.
func drainSlots(m *ebpf.Map, perKey uint64) ([]Count, error) {
	byKey := map[tcpdropCountKey]*Count{}
	var order []tcpdropCountKey
	var perCPU []tcpdropCountSlot
	for idx := range m.MaxEntries() {
		if err := m.Lookup(idx, &perCPU); err != nil {
			return nil, fmt.Errorf("tcp_drop: reading the counter slots: %w", err)
		}
		held := false
		for _, s := range perCPU {
			if s.Packets == 0 {
				continue
			}
			held = true
			cnt := byKey[s.Key]
			if cnt == nil {
				cnt = &Count{Kind: Kind(s.Key.Kind), SocketInode: s.Key.SockIno, Reason: s.Key.Reason, HasReason: s.Key.HasReason != 0,
					State: TCPState(s.Key.State), Location: s.Key.Location, Filtered: s.Key.Filtered != 0}
				byKey[s.Key] = cnt
				order = append(order, s.Key)
			}
			cnt.Packets += s.Packets
			if perKey > 0 && !cnt.Filtered && s.Packets > perKey {
				cnt.Repeats += s.Packets - perKey
			}
		}
		if held {
			clear(perCPU)
			if err := m.Update(idx, perCPU, ebpf.UpdateExist); err != nil {
				return nil, fmt.Errorf("tcp_drop: emptying the counter slots: %w", err)
			}
		}
	}
	out := make([]Count, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out, nil
}

// merge adds the counts of b to those of a with the same key.
func merge(a, b []Count) []Count {
	type key struct {
		kind                Kind
		ino, loc            uint64
		reason              uint32
		hasReason, filtered bool
		state               TCPState
	}
	at := make(map[key]int, len(a))
	for i, c := range a {
		at[key{c.Kind, c.SocketInode, c.Location, c.Reason, c.HasReason, c.Filtered, c.State}] = i
	}
	for _, c := range b {
		k := key{c.Kind, c.SocketInode, c.Location, c.Reason, c.HasReason, c.Filtered, c.State}
		if i, ok := at[k]; ok {
			a[i].Packets += c.Packets
			a[i].Repeats += c.Repeats
			continue
		}
		at[k] = len(a)
		a = append(a, c)
	}
	return a
}

// readLosses adds the kernel's cumulative loss counters to c.
func (p *Probe) readLosses(c *Counts) error {
	var stats []tcpdropProbeStats
	if err := p.objs.TcpdropStats.Lookup(uint32(0), &stats); err != nil {
		return fmt.Errorf("tcp_drop: reading the loss counters: %w", err)
	}
	for _, s := range stats {
		c.Lost += s.Lost
		c.Uncounted += s.Uncounted
		c.Shed += s.Shed
	}
	c.Missed = 0
	for _, prog := range []*ebpf.Program{p.objs.TcpdropKfree, p.objs.TcpdropReset,
		p.objs.TcpdropRetransmit, p.objs.TcpdropRetransmitSynack, p.objs.TcpdropConnectFailed} {
		if prog == nil { // an optional program, not loaded
			continue
		}
		ps, err := prog.Stats()
		if err != nil && !errors.Is(err, errors.ErrUnsupported) {
			return fmt.Errorf("tcp_drop: reading the program's statistics: %w", err)
		}
		if ps != nil {
			c.Missed += ps.RecursionMisses
		}
	}
	return nil
}
