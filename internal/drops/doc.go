// SPDX-License-Identifier: Apache-2.0

// Package drops is the engine between the kernel and the collector. It owns
// the kernel program (internal/probe), the owner resolver (internal/owners),
// the listen-queue watcher (internal/listeners) and the running kernel's
// names (internal/dropreason, internal/kallsyms); it runs every loop: reading
// the ring, collecting the counts, polling the listeners and keeping the
// kernel's listener table in sync. It hands out plain Go values: each Drop
// with its owner and names, each Overflow, and cumulative Counts keyed as the
// metrics need them. It holds no OpenTelemetry types: the receiver maps its
// values to pdata, and a benchmark or another program can use it alone.
//
// Where each job is:
//
//	engine.go          Engine: Open (open.go: the running kernel) or New (given sources), Start, Stop; the counts' loop
//	options.go         Options: the engine's settings and their defaults
//	reasons.go         the reason policy: what the kernel program leaves to the watcher
//	read.go            the ring's reading loop
//	deliver.go         owners for each batch, off the ring's path, then Outputs.Drops
//	filter.go          the logs filters: the kernel program's bit sets, and the overflows' verdict
//	repeat.go          Repeat: a key's drops past log_records_per_key in one interval, for its summary record
//	drop.go, names.go  a Drop and the kernel's names for it
//	owner.go           Owner: who a drop belongs to
//	tally.go           Counts: the kernel's counts and the overflows, keyed by owner, reason, function
//	listen.go          the listen-queue poll: overflows, listeners and their owners
//	listener_table.go  the kernel program's listener table: the socket the kernel would pick
package drops
