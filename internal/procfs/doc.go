// SPDX-License-Identifier: Apache-2.0

// Package procfs reads what tcp_drop needs of /proc, each in one place:
// the processes and their open descriptors (pids.go), the mount table
// (mountinfo.go) and a network namespace's counters (netstat.go). Every walk
// and read is bounded, so that a huge or hostile /proc cannot make one
// unbounded.
//
// It is kept instead of github.com/prometheus/procfs (node_exporter's),
// which reads each file by path into new strings and structs: the
// listeners re-read every namespace's netstat each poll through a
// kept-open descriptor without allocating (that library allocates 260
// times, 29 KB, a read), and a scan of 10,000 sockets allocates a third of
// the bytes it does. librarybench/ measures both.
package procfs
