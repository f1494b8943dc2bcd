// SPDX-License-Identifier: GPL-2.0
/* Part of tcpdrop.c, which #includes it: bpf2go builds one object from one
 * .c file, and the iterator fills a map of that object's. A .c file because
 * it holds a program of its own.
 *
 * tcpdrop_listener_socks_iter runs over every open file of every task (user
 * space runs it when it updates tcpdrop_listeners, on kernels that pass
 * kfree_skb no socket) and keeps the address of each listening TCP socket by
 * its inode in tcpdrop_listener_socks, where the program finds a listener
 * for a dropped segment of a handshake (table_listener). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "../kernel_consts.h"
#include "../kernel_types.h"
#include "../listener_maps.h"

SEC("iter/task_file")
int tcpdrop_listener_socks_iter(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	if (!file)
		return 0;
	struct inode *inode = file->f_inode;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK)
		return 0;
	struct socket *sock = (struct socket *)file->private_data;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_LISTEN ||
	    BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	__u64 ino = inode->i_ino;
	__u64 addr = (__u64)sk;
	bpf_map_update_elem(&tcpdrop_listener_socks, &ino, &addr, BPF_ANY);
	return 0;
}
