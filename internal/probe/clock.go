// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"time"

	"golang.org/x/sys/unix"
)

// wallClock converts the kernel's CLOCK_MONOTONIC timestamps to wall-clock
// time. The offset between the two clocks moves when NTP adjusts the wall
// clock, so it is re-read once per batch.
type wallClock struct {
	offset int64 // wall - monotonic, in nanoseconds
}

func (c *wallClock) sync() {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return // keep the last offset; CLOCK_MONOTONIC does not fail on Linux
	}
	c.offset = time.Now().UnixNano() - ts.Nano()
}

func (c *wallClock) toTime(monotonicNs uint64) time.Time {
	return time.Unix(0, int64(monotonicNs)+c.offset)
}
