// SPDX-License-Identifier: Apache-2.0

package owners

import "time"

// The scan budget: scans may take scanShare of one CPU over time, and up to
// scanBurst at once after a quiet spell, so that a socket seen for the first
// time is usually looked for at once, and a stream of unknown sockets (a
// host opening connections faster than scans can follow) costs at most
// scanShare, however large the host. A scan's cost is its duration.
const (
	scanShare = 0.01
	scanBurst = 250 * time.Millisecond
)

// budget is a token bucket of scan time. Not safe for concurrent use: the
// Resolver's scanMu guards it.
type budget struct {
	share  float64
	burst  time.Duration
	credit time.Duration // scan time that may be spent now; negative after a scan that cost more
	at     time.Time     // when credit was last brought up to date; zero: never (full)
}

// wait returns how long after now a scan may start.
func (b *budget) wait(now time.Time) time.Duration {
	b.refill(now)
	if b.credit > 0 {
		return 0
	}
	return time.Duration(float64(-b.credit)/b.share) + 1
}

// spend takes a scan's duration off the credit.
func (b *budget) spend(cost time.Duration, now time.Time) {
	b.refill(now)
	b.credit -= cost
}

func (b *budget) refill(now time.Time) {
	if b.at.IsZero() {
		b.credit = b.burst
	} else if now.After(b.at) {
		b.credit = min(b.burst, b.credit+time.Duration(float64(now.Sub(b.at))*b.share))
	}
	b.at = now
}
