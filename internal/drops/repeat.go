// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"time"

	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// Repeat is what became of one count key's repeats in one collection
// interval: the drops the kernel counted and sent as no record, because
// the key had sent Options.LogRecordsPerKey on their CPU already. With the
// records, the losses and the filtered drops, they add up to the key's
// packets: records + repeats + lost + shed + filtered = packets.
type Repeat struct {
	Kind        probe.Kind // repeats of a drop's key or of a reset's
	Owner       Owner
	SocketInode uint64 // 0 when the packets had no socket a process holds
	Reason      string
	Function    string
	Location    string // function and offset
	State       string // the socket's TCP state; "" without one
	Repeats     uint64
	// Since and Until bound the interval: the collection before (zero for
	// the first, which counts from the start) and this one.
	Since, Until time.Time
}
