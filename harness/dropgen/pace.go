// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"math"
	"math/bits"
	"time"
)

// unlimited is a slot count with no end.
const unlimited = math.MaxUint64

// pacer hands one worker its slots. Slots are numbered over all workers:
// worker id owns g = id, id+workers, id+2*workers, ... With a rate, slot g
// is due at g/rate seconds after the start (open loop: the clock decides,
// not how fast earlier sends went). Without a rate every slot is due at once.
type pacer struct {
	rate    uint64        // packets/s over all workers; 0 = as fast as possible
	total   uint64        // slots over all workers, or unlimited
	workers uint64        // >= 1
	id      uint64        // < workers
	slack   time.Duration // how late a slot may still be sent
	next    uint64        // this worker's next slot, counted in its own slots
	end     uint64        // this worker's slot count, or unlimited
}

func newPacer(rate, total uint64, workers, id int, slack time.Duration) *pacer {
	p := &pacer{rate: rate, total: total, workers: uint64(workers), id: uint64(id), slack: slack}
	p.end = p.own(total)
	return p
}

// own counts this worker's slots among global slots 0..g-1.
func (p *pacer) own(g uint64) uint64 {
	if g == unlimited {
		return unlimited
	}
	if g <= p.id {
		return 0
	}
	return (g-p.id-1)/p.workers + 1
}

// global is the global number of this worker's slot j.
func (p *pacer) global(j uint64) uint64 { return j*p.workers + p.id }

// dueBy counts the global slots due at elapsed time t: g with g <= t*rate.
func (p *pacer) dueBy(t time.Duration) uint64 {
	if p.rate == 0 {
		return p.total
	}
	if t < 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(t), p.rate)
	if hi >= uint64(time.Second) { // the quotient would not fit
		return p.total
	}
	q, _ := bits.Div64(hi, lo, uint64(time.Second))
	return min(q+1, p.total)
}

// at is when global slot g is due (rounded up to the nanosecond).
func (p *pacer) at(g uint64) time.Duration {
	if p.rate == 0 {
		return 0
	}
	hi, lo := bits.Mul64(g, uint64(time.Second))
	if hi >= p.rate {
		return math.MaxInt64
	}
	q, r := bits.Div64(hi, lo, p.rate)
	if r != 0 {
		q++
	}
	return time.Duration(min(q, math.MaxInt64))
}

// done says whether all of this worker's slots have been handed out.
func (p *pacer) done() bool { return p.next >= p.end }

// step is one pacing decision at elapsed time now. It skips the slots that
// are more than slack late (behind), then hands out up to limit due slots
// starting at global slot first, the next being first+workers and so on.
// lag is how late first is. When nothing is due, wait says for how long.
func (p *pacer) step(now time.Duration, limit int) (first uint64, n int, behind uint64, lag, wait time.Duration) {
	if p.done() {
		return 0, 0, 0, 0, 0
	}
	if p.rate > 0 && now > p.slack {
		if stale := min(p.own(p.dueBy(now-p.slack)), p.end); stale > p.next {
			behind = stale - p.next
			p.next = stale
		}
	}
	due := min(p.own(p.dueBy(now)), p.end)
	if due <= p.next {
		if p.done() {
			return 0, 0, behind, 0, 0
		}
		return 0, 0, behind, 0, p.at(p.global(p.next)) - now
	}
	n = int(min(due-p.next, uint64(limit)))
	first = p.global(p.next)
	if p.rate > 0 {
		lag = now - p.at(first)
	}
	p.next += uint64(n)
	return first, n, behind, lag, 0
}

// slots is how many slots a run of o has in all, or unlimited.
func slots(o Options) uint64 {
	total := uint64(unlimited)
	if o.Count > 0 {
		total = uint64(o.Count)
	}
	if o.Rate > 0 && o.Duration > 0 {
		// Slots due strictly before the end: g < Duration*Rate.
		hi, lo := bits.Mul64(uint64(o.Duration), uint64(o.Rate))
		if hi < uint64(time.Second) {
			q, r := bits.Div64(hi, lo, uint64(time.Second))
			if r != 0 {
				q++
			}
			total = min(total, q)
		}
	}
	return total
}
