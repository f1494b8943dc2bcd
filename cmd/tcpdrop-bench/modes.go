// SPDX-License-Identifier: Apache-2.0

package main

import (
	"path/filepath"
	"strings"
)

// monitorKind is what a mode attaches during the flood.
type monitorKind int

const (
	attachNothing monitorKind = iota
	attachFloor
	attachCollector
	attachBpftrace
)

// stdoutKind is where a collector's stdout goes.
type stdoutKind int

const (
	stdoutNull stdoutKind = iota // /dev/null
	stdoutPipe                   // a pipe the bench drains and counts, as a terminal would
	stdoutFile                   // a file under -out
)

// mode is one column of the comparison: what runs beside the flood.
type mode struct {
	name   string
	attach monitorKind
	// events is set when the collector has a logs pipeline: the kernel then
	// sends drop events, not only counts.
	events bool
	// configFile is a collector config of the user's (testdata/modes);
	// without it the bench generates one from receiver.
	configFile string
	receiver   receiverSettings
	// summaries sends the logs to the bench's sink too, which counts the
	// summary records of repeats: for modes with few records.
	summaries bool
	stdout    stdoutKind
	desc      string // what a config file's mode does, for the report
}

// benchModes put the collector between the floors and the lightest peer:
// nothing attached; the TCP-check floor (the least a monitor of TCP drops on
// kfree_skb does); the collector counting only, at its defaults (records
// per key, the rest repeats), with a record per drop (log_records_per_key
// 0, up to the rate limit) and so with a wakeup per event (the kernel's
// default, what the seed did); bpftrace.
func benchModes(limit int) []mode {
	return []mode{
		{name: "nothing", attach: attachNothing},
		{name: "tcp-check floor", attach: attachFloor},
		{name: "tcp_drop count-only", attach: attachCollector,
			receiver: receiverSettings{MaxLogRecords: limit, CountOnly: true}},
		{name: "tcp_drop", attach: attachCollector, events: true, summaries: true,
			receiver: receiverSettings{MaxLogRecords: limit}},
		{name: "tcp_drop per-drop", attach: attachCollector, events: true,
			receiver: receiverSettings{MaxLogRecords: limit, PerDrop: true}},
		{name: "tcp_drop per-drop wakeup_bytes=1", attach: attachCollector, events: true,
			receiver: receiverSettings{WakeupBytes: 1, MaxLogRecords: limit, PerDrop: true}},
		{name: "bpftrace", attach: attachBpftrace},
	}
}

// compareModes are the seed's four modes, as the configs in dir.
func compareModes(dir string) []mode {
	file := func(name string) string { return filepath.Join(dir, name+".yaml") }
	return []mode{
		{name: "nothing", attach: attachNothing},
		{name: "terminal", attach: attachCollector, events: true, configFile: file("terminal"), stdout: stdoutPipe,
			desc: "one line per drop (debug exporter)"},
		{name: "file", attach: attachCollector, events: true, configFile: file("file"), stdout: stdoutFile,
			desc: "one line per drop (debug exporter)"},
		{name: "benchmark", attach: attachCollector, configFile: file("benchmark"),
			desc: "count only: a metrics pipeline alone, so the kernel sends no events"},
		{name: "busy", attach: attachCollector, events: true, configFile: file("busy"),
			desc: "every drop converted to a log record, then dropped (nop exporter)"},
	}
}

// slug is a mode's name as a file name.
func (m mode) slug() string {
	r := strings.NewReplacer(" ", "_", "=", "", "/", "_")
	return r.Replace(m.name)
}

// bpftraceProgram is the lightest useful peer: a count per drop reason, in
// the kernel, read once at exit.
const bpftraceProgram = `tracepoint:skb:kfree_skb { @[args->reason] = count(); }`
