package probe

import (
	"errors"
	"fmt"
)

// Counts reads the exact in-kernel counts, summed over CPUs.
func (p *Probe) Counts() (Counts, error) {
	select {
	case <-p.closed:
		return Counts{}, ErrClosed
	default:
	}
	var c Counts
	var key tcpdropCountKey
	var perCPU []tcpdropCountValue
	it := p.objs.TcpdropCounts.Iterate()
	for it.Next(&key, &perCPU) {
		cnt := Count{
			SocketInode: key.SockIno,
			PID:         key.Tgid,
			Reason:      key.Reason,
			HasReason:   key.HasReason != 0,
			Location:    key.Location,
		}
		for _, v := range perCPU {
			cnt.Packets += v.Packets
			if cnt.Comm[0] == 0 && v.Comm[0] != 0 {
				cnt.Comm = commBytes(v.Comm)
			}
		}
		c.ByKey = append(c.ByKey, cnt)
	}
	if err := it.Err(); err != nil {
		return Counts{}, fmt.Errorf("tcp_drop: reading the counter map: %w", err)
	}

	var stats []tcpdropProbeStats
	if err := p.objs.TcpdropStats.Lookup(uint32(0), &stats); err != nil {
		return Counts{}, fmt.Errorf("tcp_drop: reading the loss counters: %w", err)
	}
	for _, s := range stats {
		c.Lost += s.Lost
		c.Uncounted += s.Uncounted
		c.Shed += s.Shed
	}

	ps, err := p.objs.TcpdropKfree.Stats()
	if err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return Counts{}, fmt.Errorf("tcp_drop: reading the program's statistics: %w", err)
	}
	if ps != nil {
		c.Missed = ps.RecursionMisses
	}
	return c, nil
}

func commBytes(c [16]int8) [16]byte {
	var b [16]byte
	for i, v := range c {
		b[i] = byte(v)
	}
	return b
}
