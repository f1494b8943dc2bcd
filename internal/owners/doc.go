// SPDX-License-Identifier: Apache-2.0

// Package owners finds the process that owns a socket, given the socket's
// inode number (the N of "socket:[N]" in /proc/<pid>/fd, and of
// sk->sk_socket->file->f_inode->i_ino in the kernel), with the cgroup and
// container and Kubernetes pod it runs in, also from inside a container with
// a cgroup namespace of its own (namespace.go).
//
// The kernel keeps no map from sockets to processes: the only way is to read
// every process's descriptor table. A Resolver does that once, caches the
// result, and rescans only when asked about an inode it does not know, and
// then not more often than a rate limit allows, so that a storm of unknown
// inodes (sockets closed before they were looked up, sockets of kernel
// threads) costs a bounded share of one CPU.
//
// A socket shared by several processes (inherited across fork, passed over a
// unix socket) is reported with the lowest pid among them: stable from one
// scan to the next, and usually the parent that created it (a pre-forking
// server's master, not one of its workers).
package owners
