// SPDX-License-Identifier: Apache-2.0

package probe

import "time"

// The kernel program's defaults, taken by a zero Options field. They are
// the collector's defaults too (internal/drops.DefaultOptions): each is
// written only here. The map sizes in bpf/ are placeholders that
// configure overwrites with these, MaxCounters and MaxListeners.
const (
	DefaultRingBufferSize = 8 << 20
	DefaultFlushInterval  = 100 * time.Millisecond
	DefaultMaxCounters    = 16384
)

// withDefaults fills in the zero fields and takes the others as given:
// the receiver's Config is where the ranges a user may set are checked.
func (o Options) withDefaults() Options {
	if o.RingBufferSize == 0 {
		o.RingBufferSize = DefaultRingBufferSize
	}
	if o.WakeupBytes == 0 {
		o.WakeupBytes = o.RingBufferSize / 16
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.MaxCounters == 0 {
		o.MaxCounters = DefaultMaxCounters
	}
	return o
}
