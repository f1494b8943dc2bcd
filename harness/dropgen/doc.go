// SPDX-License-Identifier: Apache-2.0

// Package dropgen makes the kernel drop TCP packets on purpose, at a known
// rate and in a known number, so the tcp_drop receiver can be measured.
//
// It sends TCP segments from raw sockets to a closed port on loopback inside
// a network namespace (harness/sandbox), never anywhere else. Facts measured
// on Linux 6.18 that the numbers rest on:
//
//   - A SYN to a closed port is dropped with reason NO_SOCKET at
//     tcp_v4_rcv / tcp_v6_rcv, and the kernel answers it with an RST.
//   - That RST goes to the SYN's source port, where nothing listens, so it is
//     dropped as well, with the same reason at the same place. One SYN is
//     therefore two drops, two Tcp:InSegs and one Tcp:OutRsts.
//   - An RST to a closed port is one drop and gets no answer (Kind RST).
//   - The sockets are IPPROTO_RAW (header included), which receive nothing.
//     A raw socket of IPPROTO_TCP is handed a clone of every TCP segment:
//     the kernel queues about 256 of them, never read, and frees them when
//     the socket closes as that many QUEUE_PURGE drops the run did not mean.
//   - Loopback does not skip TCP checksum verification for these packets: a
//     wrong checksum is counted in Tcp:InCsumErrors and dropped as TCP_CSUM,
//     not NO_SOCKET, and is not answered.
package dropgen
