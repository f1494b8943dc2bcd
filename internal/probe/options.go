package probe

import (
	"fmt"
	"os"
	"time"
)

// Defaults for Options.
const (
	DefaultRingBufferSize = 8 << 20
	DefaultFlushInterval  = 100 * time.Millisecond
	DefaultMaxCounters    = 16384
)

// withDefaults fills in zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	if o.RingBufferSize == 0 {
		o.RingBufferSize = DefaultRingBufferSize
	}
	page := os.Getpagesize()
	if o.RingBufferSize < page || o.RingBufferSize&(o.RingBufferSize-1) != 0 {
		return o, fmt.Errorf("tcp_drop: ring buffer size %d must be a power of two and at least the page size (%d)", o.RingBufferSize, page)
	}
	if o.WakeupBytes == 0 {
		o.WakeupBytes = o.RingBufferSize / 16
	}
	if o.WakeupBytes < 0 || o.WakeupBytes > o.RingBufferSize {
		return o, fmt.Errorf("tcp_drop: wakeup bytes %d must be between 1 and the ring buffer size (%d)", o.WakeupBytes, o.RingBufferSize)
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.FlushInterval < 0 {
		return o, fmt.Errorf("tcp_drop: flush interval %v must be positive", o.FlushInterval)
	}
	if o.MaxEventsPerSecond < 0 {
		return o, fmt.Errorf("tcp_drop: max events per second %d must not be negative", o.MaxEventsPerSecond)
	}
	if o.MaxCounters == 0 {
		o.MaxCounters = DefaultMaxCounters
	}
	if o.MaxCounters < 0 {
		return o, fmt.Errorf("tcp_drop: max counters %d must be positive", o.MaxCounters)
	}
	return o, nil
}
