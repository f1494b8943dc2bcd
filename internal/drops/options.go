// SPDX-License-Identifier: Apache-2.0

package drops

import (
	"slices"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// Options are the engine's settings, taken as given: the tcp_drop
// receiver's Config (receiver/tcpdropreceiver) names them as configuration
// keys and checks their ranges. Their defaults are DefaultOptions.
type Options struct {
	// CollectionInterval is how often the exact counts are collected
	// (Outputs.Counts).
	CollectionInterval time.Duration
	// RingBufferSize is the size in bytes of the kernel-to-collector event
	// ring: a power of two, at least the page size.
	RingBufferSize int
	// WakeupBytes is how much unread data in the ring wakes the reader;
	// 0 means RingBufferSize/16.
	WakeupBytes int
	// FlushInterval bounds how long an event waits in a quiet ring.
	FlushInterval time.Duration
	// MaxCounters is how many (socket, reason, location) counters the
	// kernel keeps between two collections.
	MaxCounters int
	// SeriesExpiry is how long a cumulative series of tcp_drop.packets that
	// does not grow is still reported (its owner has likely exited); 0
	// keeps every series for good. One that grows again starts from zero,
	// with a new start time.
	SeriesExpiry time.Duration
	// MaxLogRecordsPerSecond limits the drop events the kernel sends (each
	// becomes a log record), so a flood costs only the counting. Events
	// above it are counted in Counts.Shed; the counts stay exact. 0 means
	// no limit.
	MaxLogRecordsPerSecond int
	// LogRecordsPerKey is how many drops of each count key (socket, reason,
	// location, TCP state, the filters' verdict), on each CPU, in each
	// collection interval become log records; the later ones, repeats, are
	// only counted, and the collection hands each key's number out as a
	// Repeat (Outputs.Repeats). 0: every drop, up to
	// MaxLogRecordsPerSecond, which stays the ceiling.
	LogRecordsPerKey int
	// ResolveOwners names the process that owns each drop's socket, by
	// reading /proc/<pid>/fd (see internal/owners).
	ResolveOwners bool
	// ListenQueues watches every listening socket for listen-queue
	// overflows, which kfree_skb does not see.
	ListenQueues ListenQueues
	// KernelStack adds the kernel stack to each drop. Off by default: it
	// costs a stack walk per event in the kernel and makes each event about
	// three times larger.
	KernelStack bool
	// Logs selects the drops that become log records; every drop is still
	// counted (see LogFilters).
	Logs LogFilters
	// Resets counts the resets (RSTs) this host sends, with the kernel's
	// reason (6.10+), and sends them as events like drops: counts and
	// events of kind probe.KindReset.
	Resets bool
	// Retransmits counts the segments this host sends again, by what they
	// are (probe.RetransmitReason), as events of kind probe.KindRetransmit.
	Retransmits bool
	// FailedConnects counts the connects this host makes that fail, by
	// their error, as events of kind probe.KindConnectFailed.
	FailedConnects bool
}

// LogFilters select, in the kernel, which drops are sent as events (and
// become log records), and in the engine which listen-queue overflows do
// (overflowFilter). A drop they leave out is counted like every other, and
// once more in Counts.Filtered, so that records + lost + shed + filtered =
// packets. Names are the kernel's (enum skb_drop_reason, without
// SKB_DROP_REASON_), checked against its BTF at start (see filter.go).
type LogFilters struct {
	// ExcludeReasons are reasons whose drops are not logged. Default:
	// DefaultExcludeReasons; [] logs them all.
	ExcludeReasons []string
	// IncludeReasons, when not empty, are the only reasons logged (less
	// ExcludeReasons).
	IncludeReasons []string
	// Ports, when not empty, are the only TCP ports (1..65535) whose drops
	// are logged: the packet's source or destination port, so local or
	// remote.
	Ports []int
}

// DefaultExcludeReasons is the benign set (docs/benign-reasons.md): what
// ordinary traffic and an idle machine drop as part of TCP working as
// designed. QUEUE_PURGE: the queues of a closing socket, purged (every
// close of a connection with a FIN still queued; 6.8+). TCP_OLD_DATA: a
// retransmitted segment whose data was already received (a duplicate).
var DefaultExcludeReasons = []string{"QUEUE_PURGE", "TCP_OLD_DATA"}

// ListenQueues configures the listen-queue watcher.
type ListenQueues struct {
	Enabled bool
	// PollInterval is how often every listener's queue and the kernel's
	// overflow counters are read: the latency of an overflow's record.
	PollInterval time.Duration
}

// DefaultOptions are the defaults of every option, and so of every
// configuration key. The kernel program's own come from internal/probe,
// which the C file's map sizes only stand in for.
func DefaultOptions() Options {
	return Options{
		CollectionInterval:     10 * time.Second,
		RingBufferSize:         probe.DefaultRingBufferSize,
		FlushInterval:          probe.DefaultFlushInterval,
		MaxCounters:            probe.DefaultMaxCounters,
		SeriesExpiry:           15 * time.Minute,
		MaxLogRecordsPerSecond: 200_000,
		LogRecordsPerKey:       defaultLogRecordsPerKey,
		ResolveOwners:          true,
		ListenQueues:           ListenQueues{Enabled: true, PollInterval: time.Second},
		Logs:                   LogFilters{ExcludeReasons: slices.Clone(DefaultExcludeReasons)},
		Resets:                 true,
		Retransmits:            true,
		FailedConnects:         true,
	}
}

// defaultLogRecordsPerKey keeps a flood's records to a few per key and
// interval, the rest in one summary record (docs/cost.md: measured, a flood
// then costs the dropping CPUs what counting does).
const defaultLogRecordsPerKey = 10

// probeOptions are the kernel program's options for o.
func (o Options) probeOptions(countOnly, matchListeners bool) probe.Options {
	return probe.Options{
		RingBufferSize:         o.RingBufferSize,
		WakeupBytes:            o.WakeupBytes,
		FlushInterval:          o.FlushInterval,
		MaxCounters:            o.MaxCounters,
		MaxLogRecordsPerSecond: o.MaxLogRecordsPerSecond,
		LogRecordsPerKey:       o.LogRecordsPerKey,
		CountOnly:              countOnly,
		MatchListeners:         matchListeners,
		SocketBirths:           o.ResolveOwners,
		KernelStack:            o.KernelStack,
		Resets:                 o.Resets,
		Retransmits:            o.Retransmits,
		FailedConnects:         o.FailedConnects,
	}
}
