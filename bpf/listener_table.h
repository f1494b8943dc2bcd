/* SPDX-License-Identifier: GPL-2.0 */
/* The listener table's rules (tcpdrop_listeners, listener_maps.h), where the
 * kernel applies them: the tcp_drop program looks listeners up by them and
 * the listen-state program keeps the table by them between user space's
 * polls. User space applies the same rules in Go at every poll, which
 * settles what the kernel side cannot see (below); that code names this
 * file, and a change to a rule is made on both sides.
 *
 *   key          a socket's network namespace, port, family and the
 *                address it is bound to; an IPv4-mapped IPv6 address is
 *                IPv4; all zeros: any address of its family.
 *   lookup       a packet's destination address, else any address of its
 *                family: the socket the kernel would give it.
 *   dual stack   an IPv6 socket bound to any address and not IPv6-only
 *                takes IPv4 connections too: it is also the IPv4
 *                any-address listener of its port, unless an IPv4 socket
 *                bound to any address takes them first, as the kernel
 *                prefers.
 *   shared       of the sockets that share an address (SO_REUSEPORT, or
 *                one address written two ways) the lowest inode owns it.
 */
#ifndef TCPDROP_LISTENER_TABLE_H
#define TCPDROP_LISTENER_TABLE_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "kernel_consts.h"
#include "kernel_types.h"
#include "listener_maps.h"
#include "tcpdrop.h"

/* listener_inode looks up the listener a packet to daddr:port was going to.
 * 0: none. */
static __always_inline __u64 listener_inode(__u32 netns, __u8 family, const __u8 daddr[16],
					    __u16 port)
{
	struct listener_key lk = { .netns = netns, .port = port, .family = family };
	__builtin_memcpy(lk.addr, daddr, sizeof(lk.addr));
	__u64 *ino = bpf_map_lookup_elem(&tcpdrop_listeners, &lk);
	if (ino)
		return *ino;
	__builtin_memset(lk.addr, 0, sizeof(lk.addr));
	ino = bpf_map_lookup_elem(&tcpdrop_listeners, &lk);
	return ino ? *ino : 0;
}

/* put_addr writes an IPv6 address (an IPv4-mapped one as IPv4) and returns
 * its family: 4 or 6. hi and lo are its two halves as loaded. */
static __always_inline __u8 put_addr(__u8 *to, __u64 hi, __u64 lo)
{
	/* ::ffff:a.b.c.d, in network order: 0..0 ff ff a b c d */
	if (hi == 0 && (__u32)lo == bpf_htonl(0xffff)) {
		__u32 a = lo >> 32;
		__builtin_memcpy(to, &a, 4);
		return 4;
	}
	__builtin_memcpy(to, &hi, 8);
	__builtin_memcpy(to + 8, &lo, 8);
	return 6;
}

/* listener_key_of keys the listening socket sk. Returns 0 for an IPv4 or
 * IPv6 socket with a port. */
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
		lk->family = put_addr(lk->addr, hi, lo);
	} else {
		return -1;
	}
	return lk->port ? 0 : -1;
}

/* dual_stack turns lk, sk's key, into its IPv4 any-address key and returns
 * 1 when sk is a dual-stack socket. */
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

/* take_lowest gives lk to the socket ino unless a lower inode holds it. A
 * look and a write, not one atomic step: two sockets that start listening
 * on one address at the same moment may leave the higher there until the
 * poll. */
static __always_inline void take_lowest(struct listener_key *lk, __u64 ino)
{
	__u64 *cur = bpf_map_lookup_elem(&tcpdrop_listeners, lk);
	if (!cur && !bpf_map_update_elem(&tcpdrop_listeners, lk, &ino, BPF_NOEXIST))
		return;
	if (!cur) /* taken since the look */
		cur = bpf_map_lookup_elem(&tcpdrop_listeners, lk);
	if (cur && *cur > ino)
		*cur = ino;
}

/* listener_started puts sk, which has just started listening, into the
 * table. Its dual-stack key it takes only while free: the table does not
 * say whether the socket holding it is an IPv4 one (which keeps it) or
 * another dual-stack one, nor, when an IPv4 socket comes, whether the
 * holder is dual-stack (which gives it up); the poll settles both. Returns
 * 0 when sk has a key. */
static __always_inline int listener_started(struct sock *sk, __u64 ino)
{
	struct listener_key lk = {};
	if (listener_key_of(sk, &lk))
		return -1;
	take_lowest(&lk, ino);
	if (dual_stack(sk, &lk))
		bpf_map_update_elem(&tcpdrop_listeners, &lk, &ino, BPF_NOEXIST);
	return 0;
}

/* forget deletes lk if it still names the socket ino. */
static __always_inline void forget(struct listener_key *lk, __u64 ino)
{
	__u64 *cur = bpf_map_lookup_elem(&tcpdrop_listeners, lk);
	if (cur && *cur == ino)
		bpf_map_delete_elem(&tcpdrop_listeners, lk);
}

/* listener_stopped takes sk, which has just stopped listening, out of the
 * table where it owns an address; another socket sharing that address comes
 * in at the poll. Returns 0 when sk has a key: once its port is released
 * (0) it has none, and the poll takes it out. */
static __always_inline int listener_stopped(struct sock *sk, __u64 ino)
{
	struct listener_key lk = {};
	if (listener_key_of(sk, &lk))
		return -1;
	forget(&lk, ino);
	if (dual_stack(sk, &lk))
		forget(&lk, ino);
	return 0;
}

#endif
