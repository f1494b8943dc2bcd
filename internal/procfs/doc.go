// SPDX-License-Identifier: Apache-2.0

// Package procfs reads what tcp_drop needs of /proc, each in one place:
// the processes and their open descriptors (pids.go), the mount table
// (mountinfo.go) and a network namespace's counters (netstat.go). Every walk
// and read is bounded, so that a huge or hostile /proc cannot make one
// unbounded.
package procfs
