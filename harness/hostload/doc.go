// SPDX-License-Identifier: Apache-2.0

// Package hostload builds a busy host and measures what the collector's
// engine (internal/drops) costs on it: the CPU time of a process that runs
// only the engine, per second of wall time, idle and under a steady rate
// of drops to a socket a process owns.
//
// The host: N network namespaces, each entered by a process of its own
// (`sleep`, as a container's pause process), each with 5 listening sockets
// (0.0.0.0:8001-8003, [::]:8004-8005), and S TCP sockets (S/2 established
// loopback connections, both ends held) spread over 50 holder processes,
// which hold the listeners too. The drops: non-blocking connects, closed
// at once, to a listener in the first namespace behind an nftables drop
// rule, so each SYN is one NETFILTER_DROP whose owner is that listener's
// holder.
//
// Holders and the engine are this program run again (os.Executable, or the
// engine binary given), told their role by RoleEnv: RunChild runs it.
package hostload
