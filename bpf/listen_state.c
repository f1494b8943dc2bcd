// SPDX-License-Identifier: GPL-2.0
/* tcp_drop's listen-state program: on sock:inet_sock_set_state (tp_btf),
 * puts a TCP socket into the listener tables the moment it starts listening
 * and takes it out when it stops (by the rules of listener_table.h), so
 * that a packet firewalled right after listen() is attributed to its
 * listener. User space still reconciles the
 * tables at every poll (internal/probe/listeners.go); this only makes them
 * current between polls. A listener that stops is also kept, with its
 * final drop count, until user space takes it: the overflows of its last
 * moments are its own, even when its process was killed. And the process
 * that makes a socket connect or listen is remembered as its owner, for a
 * drop after that process exited; and every established connection, for a
 * packet of it dropped before it met its socket. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "kernel_consts.h"
#include "kernel_types.h"
#include "listener_maps.h"
#include "listener_table.h"
#include "sock_births.h"
#include "sock_inode.h"

char LICENSE[] SEC("license") = "GPL";

/* A listener that stopped listening, as it stopped. */
struct closed_listener {
	__u64 cookie; /* socket cookie; 0 if never asked for (sock_diag never listed it) */
	__u32 netns;  /* its network namespace's inode */
	__u32 drops;  /* sk_drops */
};

/* Listeners that stopped listening since user space last took them
 * (internal/probe/closed_listeners.go), by socket inode. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized by the loader */
	__type(key, __u64);	    /* socket inode */
	__type(value, struct closed_listener);
} tcpdrop_closed_listeners SEC(".maps");

/* conn_key_of keys a connection as the kernel program looks it up from a
 * packet that arrives for it. The local port is read from inet_sport,
 * which stays set when the port is released (as it is before an abort's
 * CLOSE is traced). Returns 0 for an IPv4 or IPv6 socket. */
static __always_inline int conn_key_of(struct sock *sk, struct conn_key *ck)
{
	ck->netns = sk->__sk_common.skc_net.net->ns.inum;
	ck->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	ck->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	unsigned short family = sk->__sk_common.skc_family;
	if (family == AF_INET) {
		ck->family = 4;
		__be32 l = sk->__sk_common.skc_rcv_saddr, r = sk->__sk_common.skc_daddr;
		__builtin_memcpy(ck->laddr, &l, 4);
		__builtin_memcpy(ck->raddr, &r, 4);
		return 0;
	}
	if (family != AF_INET6)
		return -1;
	/* Two 8-byte loads each: direct BTF access allows no wider ones. */
	__u64 lhi = *(__u64 *)&sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8[0];
	__u64 llo = *(__u64 *)&sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8[8];
	__u64 rhi = *(__u64 *)&sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8[0];
	__u64 rlo = *(__u64 *)&sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8[8];
	ck->family = put_addr(ck->laddr, lhi, llo);
	put_addr(ck->raddr, rhi, rlo);
	return 0;
}

/* track_conn keeps tcpdrop_conns: a socket is put in as it becomes
 * established, taken out as it stops being so. */
static __always_inline void track_conn(struct sock *sk, int oldstate, int newstate)
{
	if (newstate != TCP_ESTABLISHED && oldstate != TCP_ESTABLISHED)
		return;
	struct conn_key ck = {};
	if (conn_key_of(sk, &ck))
		return;
	__u64 addr = (__u64)sk;
	if (newstate == TCP_ESTABLISHED) {
		bpf_map_update_elem(&tcpdrop_conns, &ck, &addr, BPF_ANY);
		return;
	}
	__u64 *cur = bpf_map_lookup_elem(&tcpdrop_conns, &ck);
	if (cur && *cur == addr)
		bpf_map_delete_elem(&tcpdrop_conns, &ck);
}

/* remember_closed keeps what user space needs of a listener that stopped
 * listening: by then its port may already be released (0), so it is known
 * by its inode and cookie. */
static __always_inline void remember_closed(struct sock *sk, __u64 ino)
{
	struct closed_listener cl = {
		.cookie = sk->__sk_common.skc_cookie.counter,
		.netns = sk->__sk_common.skc_net.net->ns.inum,
	};
	if (bpf_core_field_exists(sk->sk_drops))
		cl.drops = sk->sk_drops.counter;
	bpf_map_update_elem(&tcpdrop_closed_listeners, &ino, &cl, BPF_ANY);
}

SEC("tp_btf/inet_sock_set_state")
int tcpdrop_listen_state(__u64 *ctx)
{
	struct sock *sk = (struct sock *)ctx[0];
	int oldstate = (int)ctx[1], newstate = (int)ctx[2];
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	track_conn(sk, oldstate, newstate);
	int starts = newstate == TCP_LISTEN;
	int connects = newstate == TCP_SYN_SENT;
	if (!connects && starts == (oldstate == TCP_LISTEN))
		return 0; /* not into or out of LISTEN, nor a connect */
	__u64 ino = sock_inode(sk);
	if (!ino)
		return 0; /* user space's poll will find it */
	if (connects || starts)
		remember_birth(ino, BPF_ANY);
	if (connects)
		return 0;
	if (!starts) {
		remember_closed(sk, ino);
		bpf_map_delete_elem(&tcpdrop_listener_socks, &ino);
		listener_stopped(sk, ino);
		return 0;
	}
	if (listener_started(sk, ino))
		return 0; /* no port: not a listener the table can hold */
	__u64 addr = (__u64)sk;
	bpf_map_update_elem(&tcpdrop_listener_socks, &ino, &addr, BPF_ANY);
	return 0;
}
