// SPDX-License-Identifier: GPL-2.0
/* tcp_drop's listen-state program: on sock:inet_sock_set_state (tp_btf),
 * puts a TCP socket into the listener tables the moment it starts listening
 * and takes it out when it stops, so that a packet firewalled right after
 * listen() is attributed to its listener. User space still reconciles the
 * tables at every poll (internal/probe/listeners.go); this only makes them
 * current between polls. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "kernel_types.h"
#include "listener_maps.h"

#define IPPROTO_TCP 6
#define TCP_LISTEN 10
#define AF_INET 2
#define AF_INET6 10

char LICENSE[] SEC("license") = "GPL";

/* listener_key_of keys sk as the kernel program looks listeners up (and as
 * probe.ListenerAddr.key does): an IPv4-mapped IPv6 address as IPv4.
 * Returns 0 for an IPv4 or IPv6 socket with a port. */
static __always_inline int listener_key_of(struct sock *sk, struct listener_key *lk)
{
	lk->netns = sk->__sk_common.skc_net.net->ns.inum;
	lk->port = sk->__sk_common.skc_num;
	unsigned short family = sk->__sk_common.skc_family;
	if (family == AF_INET) {
		lk->family = 4;
		__be32 a = sk->__sk_common.skc_rcv_saddr;
		__builtin_memcpy(lk->addr, &a, 4);
	} else if (family == AF_INET6) {
		/* Two 8-byte loads: direct BTF access allows no wider ones. */
		__u64 hi = *(__u64 *)&sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8[0];
		__u64 lo = *(__u64 *)&sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8[8];
		/* ::ffff:a.b.c.d, in network order: 0..0 ff ff a b c d */
		if (hi == 0 && (__u32)lo == bpf_htonl(0xffff)) {
			lk->family = 4;
			__u32 a = lo >> 32;
			__builtin_memcpy(lk->addr, &a, 4);
		} else {
			lk->family = 6;
			__builtin_memcpy(&lk->addr[0], &hi, 8);
			__builtin_memcpy(&lk->addr[8], &lo, 8);
		}
	} else {
		return -1;
	}
	return lk->port ? 0 : -1;
}

/* An IPv6 socket bound to any address and not IPv6-only takes IPv4
 * connections too: it is also the IPv4 any-address listener of its port if
 * there is no other (listenerTable's rule in internal/drops). dual_stack
 * turns lk into that key and returns 1 for such a socket. */
static __always_inline int dual_stack(struct sock *sk, struct listener_key *lk)
{
	if (lk->family != 6 || BPF_CORE_READ_BITFIELD(sk, __sk_common.skc_ipv6only))
		return 0;
	for (int i = 0; i < 16; i++)
		if (lk->addr[i])
			return 0;
	lk->family = 4;
	return 1;
}

/* forget deletes lk if it still names the socket ino. */
static __always_inline void forget(struct listener_key *lk, __u64 ino)
{
	__u64 *cur = bpf_map_lookup_elem(&tcpdrop_listeners, lk);
	if (cur && *cur == ino)
		bpf_map_delete_elem(&tcpdrop_listeners, lk);
}

SEC("tp_btf/inet_sock_set_state")
int tcpdrop_listen_state(__u64 *ctx)
{
	struct sock *sk = (struct sock *)ctx[0];
	int oldstate = (int)ctx[1], newstate = (int)ctx[2];
	int starts = newstate == TCP_LISTEN;
	if (starts == (oldstate == TCP_LISTEN))
		return 0; /* not into or out of LISTEN */
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	struct listener_key lk = {};
	if (listener_key_of(sk, &lk))
		return 0;
	/* Plain BTF loads: a NULL anywhere on the way reads as 0. */
	__u64 ino = sk->sk_socket->file->f_inode->i_ino;
	if (!ino)
		return 0; /* user space's poll will find it */
	if (starts) {
		/* The first listener of an address keeps it (SO_REUSEPORT):
		 * the poll replaces it with the lowest inode. */
		bpf_map_update_elem(&tcpdrop_listeners, &lk, &ino, BPF_NOEXIST);
		if (dual_stack(sk, &lk))
			bpf_map_update_elem(&tcpdrop_listeners, &lk, &ino, BPF_NOEXIST);
		__u64 addr = (__u64)sk;
		bpf_map_update_elem(&tcpdrop_listener_socks, &ino, &addr, BPF_ANY);
		return 0;
	}
	forget(&lk, ino);
	if (dual_stack(sk, &lk))
		forget(&lk, ino);
	bpf_map_delete_elem(&tcpdrop_listener_socks, &ino);
	return 0;
}
