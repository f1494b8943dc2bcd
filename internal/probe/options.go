// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"fmt"
	"os"
	"time"
)

// The kernel program's defaults, taken by a zero Options field. They are
// the collector's defaults too (internal/drops.DefaultOptions): each is
// written only here. The map sizes in bpf/ are placeholders that
// configure overwrites with these, MaxCounters and MaxListeners.
const (
	DefaultRingBufferSize = 8 << 20
	DefaultFlushInterval  = 100 * time.Millisecond
	DefaultMaxCounters    = 16384
)

// withDefaults fills in zero fields and checks what the kernel itself
// requires (the ranges a user may set are internal/drops.Options'). The
// errors name the options as the collector's configuration does.
func (o Options) withDefaults() (Options, error) {
	if o.RingBufferSize == 0 {
		o.RingBufferSize = DefaultRingBufferSize
	}
	page := os.Getpagesize()
	if o.RingBufferSize < page || o.RingBufferSize&(o.RingBufferSize-1) != 0 {
		return o, fmt.Errorf("tcp_drop: ring_buffer_size %d must be a power of two and at least the page size (%d)", o.RingBufferSize, page)
	}
	if o.WakeupBytes == 0 {
		o.WakeupBytes = o.RingBufferSize / 16
	}
	if o.WakeupBytes < 0 || o.WakeupBytes > o.RingBufferSize {
		return o, fmt.Errorf("tcp_drop: wakeup_bytes %d must be between 1 and the ring buffer size (%d)", o.WakeupBytes, o.RingBufferSize)
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.FlushInterval < 0 {
		return o, fmt.Errorf("tcp_drop: flush_interval %v must be positive", o.FlushInterval)
	}
	if o.MaxLogRecordsPerSecond < 0 {
		return o, fmt.Errorf("tcp_drop: max_log_records_per_second %d must not be negative", o.MaxLogRecordsPerSecond)
	}
	if o.LogRecordsPerKey < 0 {
		return o, fmt.Errorf("tcp_drop: log_records_per_key %d must not be negative", o.LogRecordsPerKey)
	}
	if o.MaxCounters == 0 {
		o.MaxCounters = DefaultMaxCounters
	}
	if o.MaxCounters < 0 {
		return o, fmt.Errorf("tcp_drop: max_counters %d must be positive", o.MaxCounters)
	}
	return o, nil
}
