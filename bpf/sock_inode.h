/* SPDX-License-Identifier: GPL-2.0 */
/* The inode of a socket, as its owner's /proc/<pid>/fd shows it. */
#ifndef TCPDROP_SOCK_INODE_H
#define TCPDROP_SOCK_INODE_H

#include <bpf/bpf_core_read.h>

#include "kernel_types.h"

/* socket_inode_number is the inode of sock, read from beside it (SOCK_INODE),
 * with helpers: sock may be stale. For a user socket it is the inode of its
 * file; a kernel socket has no file, and an MPTCP subflow, the TCP socket
 * that listens and connects for the MPTCP socket a process holds, has that
 * socket's inode number (the kernel numbers it so for ss and sock_diag).
 * 0 when sock is NULL. */
static __always_inline __u64 socket_inode_number(struct socket *sock)
{
	if (!sock)
		return 0;
	struct socket_alloc *sa = (void *)sock - bpf_core_field_offset(struct socket_alloc, socket);
	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

/* sock_inode is the inode of sk's socket: socket:[N] in its owner's
 * /proc/<pid>/fd. A user socket's file has it, read with plain loads (a
 * NULL anywhere on the way reads as 0); a kernel socket's is read beside
 * it. 0 when sk has no socket. */
static __always_inline __u64 sock_inode(struct sock *sk)
{
	__u64 ino = sk->sk_socket->file->f_inode->i_ino;
	return ino ? ino : socket_inode_number(sk->sk_socket);
}

#endif
