/* SPDX-License-Identifier: GPL-2.0 */
/* Who held each socket, by socket inode: the owner user space names when
 * the socket is gone from every /proc/<pid>/fd (internal/owners asks). The
 * listen-state program writes the process that makes a socket connect or
 * listen; the reset program the process whose close of a socket sent a
 * reset (an accepted socket has no other record). One map, in both
 * objects: the loader gives the listen-state program the tcp_drop
 * program's. */
#ifndef TCPDROP_SOCK_BIRTHS_H
#define TCPDROP_SOCK_BIRTHS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sock_birth {
	__u32 tgid;
	char comm[16];
};

/* The oldest are forgotten first. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536); /* resized by the loader */
	__type(key, __u64);	    /* socket inode */
	__type(value, struct sock_birth);
} tcpdrop_sock_births SEC(".maps");

/* remember_birth records the task on the CPU as the holder of the socket
 * with inode ino; flags BPF_NOEXIST keeps an earlier record. */
static __always_inline void remember_birth(__u64 ino, __u64 flags)
{
	struct sock_birth b = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	bpf_get_current_comm(b.comm, sizeof(b.comm));
	bpf_map_update_elem(&tcpdrop_sock_births, &ino, &b, flags);
}

#endif
