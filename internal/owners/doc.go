// SPDX-License-Identifier: Apache-2.0

// Package owners finds the process that owns a socket, given the socket's
// inode number (the N of "socket:[N]" in /proc/<pid>/fd, and of
// sk->sk_socket->file->f_inode->i_ino in the kernel), with the cgroup and
// container and Kubernetes pod it runs in, also from inside a container with
// a cgroup namespace of its own (namespace.go).
//
// The kernel keeps no map from sockets to processes: the only way is to go
// through every process's descriptors. A scan does that, either in the
// kernel, with an iterator over every open file (kernel.go,
// bpf/owner_socks.c), or from /proc, with a readlink per descriptor
// (scan.go), where the iterator cannot be had. A Resolver scans once,
// caches the result, and scans again only for a socket it does not know:
//
//   - a scan started after the socket was known to exist answers for it,
//     found or not: a batch of unknown sockets costs one scan;
//   - a socket such a scan did not find is remembered, and looked for again
//     only after a backoff from 1 s, doubling, to a minute (misses.go);
//   - scans take at most a share of one CPU, with a burst (budget.go): a
//     storm of unknown sockets costs that share however large the host.
//
// Every cache is bounded: 1M sockets (about 40 MB), 64k missed sockets.
//
// A socket shared by several processes (inherited across fork, passed over a
// unix socket) is reported with the lowest pid among them: stable from one
// scan to the next, and usually the parent that created it (a pre-forking
// server's master, not one of its workers).
package owners
