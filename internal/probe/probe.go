// SPDX-License-Identifier: Apache-2.0

// Package probe loads the tcp_drop kernel program, attaches it to the
// kfree_skb tracepoint and reads what it reports: a stream of TCP drop
// events and exact in-kernel counts. It holds no OpenTelemetry types.
package probe

import (
	"errors"
	"time"
)

// ErrClosed is returned by ReadBatch and Counts after Close.
var ErrClosed = errors.New("probe: closed")

// Options tune the kernel program. The zero value takes the defaults.
type Options struct {
	// RingBufferSize is the size in bytes of the event ring buffer: a power
	// of two and a multiple of the page size. Default DefaultRingBufferSize.
	RingBufferSize int
	// WakeupBytes is how much unread data in the ring wakes the reader.
	// Fewer wakeups cost the dropping CPU less. Default RingBufferSize/16.
	WakeupBytes int
	// FlushInterval bounds how long an event waits in a ring that has not
	// reached WakeupBytes. Default DefaultFlushInterval.
	FlushInterval time.Duration
	// MaxCounters is the number of (socket, reason, location) keys the
	// exact counter map holds between two TakeCounts; drops of keys past it
	// are counted in Counts.Uncounted. Default DefaultMaxCounters.
	MaxCounters int
	// MaxLogRecordsPerSecond limits the events sent, in the kernel, so that a
	// flood costs only the counting; events above it are counted in
	// Counts.Shed. The counts stay exact. 0 means no limit.
	MaxLogRecordsPerSecond int
	// LogRecordsPerKey is how many drops of each count key (socket, reason,
	// location, state, the filters' verdict), on each CPU, between two
	// TakeCounts are sent as events; the later ones are repeats, only
	// counted (Count.Repeats). 0 means no limit.
	LogRecordsPerKey int
	// CountOnly keeps the exact counts but sends no events: for a collector
	// with a metrics pipeline and no logs pipeline.
	CountOnly bool
	// SkipReason is a drop reason the program neither counts nor reports,
	// for a caller that counts those drops from another source (the listen
	// overflows, from the kernel's own counters). 0 skips nothing.
	SkipReason uint32
	// SkipQueueFull is SkipReason for kernels without TCP_LISTEN_OVERFLOW
	// (before 6.16), which free an overflow of the ACK path as NOT_SPECIFIED
	// (before 5.17 with no reason): a segment that completes a handshake,
	// freed that way while its listener's accept queue is full, is neither
	// counted nor reported. The listener is the socket the kernel passes
	// (6.11+), else the one SetListeners gave for the packet's destination.
	SkipQueueFull bool
	// MatchListeners makes the program look up packets dropped before TCP
	// had them (by a firewall rule, say; their skb still starts at the IP
	// header) in the listener table that SetListeners fills, by network
	// namespace and destination address and port (see ListenerAddr), so
	// that their owner is the listener's. Packets TCP itself freed without
	// a socket (a closed port) are never matched: a table entry can be one
	// poll out of date.
	MatchListeners bool
	// SocketBirths remembers which process made each socket connect or
	// listen (SocketBirth): the owner of a drop whose process has exited.
	SocketBirths bool
	// KernelStack sends each event with the kernel stack that dropped the
	// packet (Event.Stack): 280 more bytes per event in the ring, and a
	// stack walk per event in the kernel.
	KernelStack bool
	// Filter selects the drops sent as events; all are counted. Its
	// reasons are drop reasons: resets are selected by port only.
	Filter Filter
	// Resets attaches the reset program: the RSTs this host sends are
	// counted and sent as events like drops, as KindReset.
	Resets bool
	// Retransmits attaches the retransmission programs: the segments this
	// host sends again are counted (in segments, as Tcp:RetransSegs counts
	// them) and sent as events like drops, as KindRetransmit.
	Retransmits bool
	// FailedConnects attaches the failed-connect program: the connects this
	// host makes that end in an error (refused, timed out, unreachable)
	// are counted and sent as events like drops, as KindConnectFailed.
	FailedConnects bool
}

// Counts are the kernel's exact tallies (see TakeCounts).
type Counts struct {
	// ByKey counts TCP drops per socket, reason and location since the
	// last TakeCounts.
	ByKey []Count
	// Uncounted is the number of TCP drops since Open that found the
	// counter map full and are therefore missing from ByKey.
	Uncounted uint64
	// Lost is the packets of the events that did not fit in the ring
	// buffer (Event.Packets: a retransmission's may be several segments).
	// They are still in ByKey.
	Lost uint64
	// Shed is the packets of the events not sent because of
	// MaxLogRecordsPerSecond. They are still in ByKey.
	Shed uint64
	// Filtered is the number of events not sent because Filter excludes
	// them. They are still in ByKey.
	Filtered uint64
	// Repeated is the number of drops not sent as events because their key
	// had sent LogRecordsPerKey already (the sum of every Count.Repeats
	// since Open). They are still in ByKey.
	Repeated uint64
	// Missed is the kernel's count of kfree_skb (and, with Resets,
	// tcp_send_reset; with Retransmits, tcp_retransmit_skb and
	// tcp_retransmit_synack; with FailedConnects, inet_sock_set_state)
	// calls the programs did not run for, because a BPF program was already
	// running on that CPU. It includes drops of other protocols (and state
	// changes that were no failed connect), which the programs would have
	// ignored.
	Missed uint64
}

// Count is the number of TCP packets dropped with one key.
type Count struct {
	// Kind says whether these are drops, resets or retransmissions.
	Kind Kind
	// SocketInode is the inode of the socket the packets belonged to (see
	// Event.SocketInode), 0 when they had none.
	SocketInode uint64
	Reason      uint32
	HasReason   bool
	// State is the TCP state of the socket (Event.State).
	State    TCPState
	Location uint64
	// Packets: for retransmissions, the segments sent again.
	Packets uint64
	// Repeats are the packets of this key sent as no event because the
	// key had sent LogRecordsPerKey on their CPU (Options.LogRecordsPerKey).
	Repeats uint64
	// Filtered: the log filters kept these packets from the ring.
	Filtered bool
}
