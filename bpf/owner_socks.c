// SPDX-License-Identifier: GPL-2.0
/* tcp_drop's owner iterator (internal/owners/kernel.go): run over every open
 * file of every task (iter/task_file, Linux 5.8+), it writes one record per
 * TCP socket: the socket's inode, what /proc/<pid>/fd shows as socket:[N],
 * and the process holding it. MPTCP sockets count as TCP: Go listens with
 * them by default, and the packets of their TCP subflows carry their
 * inode. One read of the iterator does in the kernel what a readlink per
 * open file under /proc does from user space. A socket held by several
 * processes, or seen through several threads, comes once for each. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "kernel_consts.h"
#include "kernel_types.h"

char LICENSE[] SEC("license") = "GPL";

/* One socket held by one process: 16 bytes, little-endian, as
 * internal/owners reads them. */
struct owner_sock {
	__u64 inode;
	__u32 tgid;
	__u32 pad;
};

SEC("iter/task_file")
int tcpdrop_owner_socks(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct task_struct *task = ctx->task;
	if (!file || !task)
		return 0;
	struct inode *inode = file->f_inode;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK)
		return 0;
	struct sock *sk = BPF_CORE_READ((struct socket *)file->private_data, sk);
	if (!sk)
		return 0;
	__u16 protocol = BPF_CORE_READ(sk, sk_protocol);
	if (protocol != IPPROTO_TCP && protocol != IPPROTO_MPTCP)
		return 0;
	unsigned short family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	struct owner_sock rec = { .inode = inode->i_ino, .tgid = task->tgid };
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
