// SPDX-License-Identifier: Apache-2.0

package main

import "time"

// row is what one mode measured in one round.
type row struct {
	Round int
	Mode  string

	Attached bool // something ran beside the flood
	Counts   bool // the tcp_drop receiver's counts were read
	Events   bool // the mode sends drop events (a logs pipeline)
	Floor    bool // the TCP-check floor ran beside the flood

	Sent        uint64        // packets the generator sent
	Elapsed     time.Duration // how long it took
	KernelDrops uint64        // Tcp:InSegs in the flood's namespace: every one was dropped

	Delivered uint64 // drop records the collector's pipeline accepted (summary records of repeats not among them)
	Refused   uint64 // log records its pipeline refused
	Lost      uint64 // tcp_drop.events.lost
	Shed      uint64 // tcp_drop.events.shed
	Filtered  uint64 // tcp_drop.events.filtered: left out by the logs filters (the benign set by default)
	Repeated  uint64 // tcp_drop.events.repeated: drops past log_records_per_key, only counted
	// Summaries are the summary records of repeats the sink received, and
	// SummaryRepeats the repeats they add up to (= Repeated).
	Summaries, SummaryRepeats uint64
	Uncounted                 uint64 // tcp_drop.packets.uncounted
	Missed                    uint64 // tcp_drop.kernel.missed: calls the program did not see (all protocols)
	// MetricTotal is tcp_drop.packets over the flood, all data points; for
	// bpftrace, the kfree_skb calls it counted while it ran.
	MetricTotal uint64
	// Resets is tcp_drop.resets over the flood: the RST the kernel sends
	// for each SYN (resets: true, the default), each an event like a drop.
	Resets uint64
	// Others is tcp_drop.retransmits and tcp_drop.connects.failed over the
	// flood: other traffic of the host (the flood makes neither), whose
	// events are records too. A retransmission's record may stand for
	// several segments.
	Others uint64
	// ByCause is MetricTotal by "REASON function".
	ByCause map[string]uint64

	CPU     time.Duration // the monitor's utime+stime over the flood
	Wakeups uint64        // its voluntary context switches over the flood
	PeakRSS uint64        // its VmHWM, bytes

	OutputBytes, OutputLines uint64 // what it printed (terminal, file)

	// OtherCPU is what other user-space processes used during the flood:
	// on a shared machine, a disturbance.
	OtherCPU time.Duration

	// CountsMoved is set when other drops kept the counts moving while the
	// bench read them before or after the flood: the telemetry and the
	// exported counts were then read at different moments, and the sum of
	// outcomes cannot be checked to the event.
	CountsMoved bool

	Notes []string
}

// Rate is the generator's packets per second.
func (r row) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

// eventBase is what wakeups are counted per: the events the collector read
// (delivered and refused ones), or the drops where a mode sends no events
// or sends most of them as repeats.
func (r row) eventBase() uint64 {
	if r.Events && r.Repeated == 0 {
		return r.Delivered + r.Refused
	}
	return r.KernelDrops
}
