/* SPDX-License-Identifier: GPL-2.0 */
/* Part of tcpdrop.c: the socket a dropped packet belonged to, whose inode
 * names its owner. Kernels since 6.11 pass it to kfree_skb (rx_sk); on all
 * kernels a packet may carry it (skb->sk); a packet with neither is matched
 * with the connection or listener it was going to, from the tables the
 * listen-state program and user space keep (listener_maps.h). */
#ifndef TCPDROP_DROP_SOCKET_H
#define TCPDROP_DROP_SOCKET_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "../kernel_consts.h"
#include "../kernel_types.h"
#include "../listener_maps.h"
#include "../listener_table.h"
#include "../sock_inode.h"
#include "packet.h"

/* Set by the loader before load. */
/* Skip a listen overflow of the ACK path on kernels without
 * TCP_LISTEN_OVERFLOW (before 6.16), which free it like other drops: user
 * space counts it better from the kernel's own counters. Recognised by the
 * state of its listener (see listener_queue_full). */
const volatile __u8 skip_queue_full = 0;
/* Look up socket-less packets in tcpdrop_listeners (filled by user space),
 * if they were dropped before TCP had them (see before_tcp). */
const volatile __u8 match_listeners = 0;

/* The socket a drop belonged to. */
struct drop_socket {
	struct sock *sk; /* as passed or attached; 0: none */
	__u64 ino;	 /* its file's inode (socket_inode); 0: no owner */
	__u8 state;	 /* as in struct count_key */
	__u8 have_netns; /* netns was read; else the event reads it */
	__u32 netns;	 /* the packet's network namespace's inode */
};

static __always_inline __u32 netns_inode(struct net_device *dev, struct sock *sk)
{
	if (dev)
		return dev->nd_net.net->ns.inum;
	if (sk)
		return sk->__sk_common.skc_net.net->ns.inum;
	return 0;
}

/* socket_inode finds the file of the socket a packet belonged to: its inode
 * is what /proc/<pid>/fd shows as socket:[N], so user space can name the
 * process that owns it. A connection still in its handshake belongs to its
 * listener. Time-wait sockets, orphans and packets with no socket have no
 * owner: 0. */
static __always_inline __u64 socket_inode(struct sock *sk)
{
	if (!sk)
		return 0;
	unsigned char state = sk->__sk_common.skc_state;
	if (state == TCP_TIME_WAIT)
		return 0; /* a smaller object: no sk_socket to read */
	if (state == TCP_NEW_SYN_RECV) {
		/* The listener pointer shares a union with another type, so the
		 * verifier allows no plain load through it: read with helpers.
		 * Rare: only handshakes in flight. */
		struct sock *listener = BPF_CORE_READ(sk, __sk_common.skc_listener);
		return socket_inode_number(BPF_CORE_READ(listener, sk_socket));
	}
	return sock_inode(sk);
}

/* tcp_state is the TCP state of the socket a packet belonged to
 * (TCP_ESTABLISHED...), 0 when it had none, or one that is not a TCP socket
 * (a raw socket sending TCP). Time-wait and request sockets are smaller
 * objects that share only sock_common: their state says what they are. */
static __always_inline __u8 tcp_state(struct sock *sk)
{
	if (!sk)
		return 0;
	__u8 state = sk->__sk_common.skc_state;
	if (state == TCP_TIME_WAIT || state == TCP_NEW_SYN_RECV)
		return state;
	if (sk->sk_protocol != IPPROTO_TCP || sk->sk_type != SOCK_STREAM)
		return 0;
	return state;
}

/* A segment that can complete a handshake: an ACK, no SYN, no RST. */
static __always_inline int handshake_ack(__u8 flags)
{
	return (flags & TCP_FLAG_ACK) && !(flags & (TCP_FLAG_SYN | TCP_FLAG_RST));
}

/* listener_queue_full tells whether sk is a listener whose accept queue is
 * full: the kernel's own test (sk_acceptq_is_full), just made when it freed a
 * segment completing a handshake as a listen overflow. Kernels without
 * TCP_LISTEN_OVERFLOW free that segment as NOT_SPECIFIED (none before 5.17)
 * in tcp_v4_rcv/tcp_v6_rcv, measured on 5.10, 6.1 and 6.12; the other
 * segments a listener drops there the same way (TCP_DEFER_ACCEPT's bare
 * ACKs) came with the queue not full. An accept() between the kernel's test
 * and this one would let an overflow be counted here as well: a window of a
 * few instructions. sk may be stale (tcpdrop_listener_socks): helpers only. */
static __always_inline int listener_queue_full(struct sock *sk)
{
	return sk && BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_LISTEN &&
	       BPF_CORE_READ(sk, sk_ack_backlog) > BPF_CORE_READ(sk, sk_max_ack_backlog);
}

/* before_tcp tells a packet dropped before the IP layer handed it to TCP (a
 * firewall rule, tc, a bad IP header: it may belong to a listener) from one
 * TCP itself freed without a socket (a closed port, a bad checksum: it
 * belongs to none): the IP layer moves skb->data from the IP header to the
 * TCP header before it calls tcp_v4_rcv / tcp_v6_rcv. Measured on 5.10, 6.1,
 * 6.12 and 6.18: a SYN to a closed port is freed in tcp_v4_rcv/tcp_v6_rcv
 * with data at the TCP header, one an nftables input rule drops in
 * nf_hook_slow (5.10) or nft_do_chain with data at the IP header. Kernels
 * before 5.17 give no reason (NO_SOCKET) that would tell them apart, and the
 * functions' addresses (kallsyms) need CAP_SYSLOG: this needs neither. */
static __always_inline int before_tcp(struct sk_buff *skb, struct tcp_packet *pkt)
{
	return skb->data == pkt->l3;
}

/* conn_sock finds the established connection a packet was for
 * (tcpdrop_conns): the local side is its destination. The socket may be
 * stale: helpers only. */
static __always_inline struct sock *conn_sock(__u32 netns, struct tcp_packet *pkt)
{
	struct conn_key ck = {
		.netns = netns,
		.lport = pkt->dport,
		.rport = pkt->sport,
		.family = pkt->family,
	};
	__builtin_memcpy(ck.laddr, pkt->daddr, sizeof(ck.laddr));
	__builtin_memcpy(ck.raddr, pkt->saddr, sizeof(ck.raddr));
	__u64 *addr = bpf_map_lookup_elem(&tcpdrop_conns, &ck);
	return addr ? (struct sock *)*addr : 0;
}

/* table_listener finds, for kernels that pass no socket, the listener a
 * packet was going to: its inode from tcpdrop_listeners, its address from
 * tcpdrop_listener_socks. */
static __always_inline struct sock *table_listener(__u32 netns, struct tcp_packet *pkt)
{
	__u64 ino = listener_inode(netns, pkt->family, pkt->daddr, pkt->dport);
	if (!ino)
		return 0;
	__u64 *addr = bpf_map_lookup_elem(&tcpdrop_listener_socks, &ino);
	return addr ? (struct sock *)*addr : 0;
}

/* passed_socket is the socket kernels since 6.11 pass kfree_skb (rx_sk,
 * ctx[3]; may be NULL); 0 on older ones. Reading ctx past the tracepoint's
 * last argument fails verification: the check before it is a constant the
 * loader resolves. */
static __always_inline struct sock *passed_socket(__u64 *ctx)
{
	if (!bpf_core_field_exists(struct trace_event_raw_kfree_skb, rx_sk))
		return 0;
	return (struct sock *)ctx[3];
}

/* listen_overflow tells whether a segment completing a handshake was freed
 * as a listen overflow (its listener's accept queue is full). Kernels since
 * 6.11 pass the listener; older ones pass no socket, and the listener of a
 * segment TCP freed with none is found in the tables. */
static __always_inline int listen_overflow(__u64 *ctx, struct sk_buff *skb, struct tcp_packet *pkt)
{
	if (bpf_core_field_exists(struct trace_event_raw_kfree_skb, rx_sk))
		return listener_queue_full(passed_socket(ctx));
	if (skb->sk || before_tcp(skb, pkt))
		return 0;
	__u32 netns = netns_inode(skb->dev, 0);
	return listener_queue_full(table_listener(netns, pkt));
}

/* firewalled_socket finds the owner of a packet with no socket dropped
 * before TCP had it (a firewall rule): the established connection it was
 * for, else the listener it was going to. */
static __always_inline void firewalled_socket(struct sk_buff *skb, struct tcp_packet *pkt,
					      struct drop_socket *s)
{
	s->netns = netns_inode(skb->dev, 0);
	s->have_netns = 1;
	struct sock *conn = conn_sock(s->netns, pkt);
	if (conn) {
		s->ino = socket_inode_number(BPF_CORE_READ(conn, sk_socket));
		s->state = BPF_CORE_READ(conn, __sk_common.skc_state);
	}
	if (!s->ino)
		s->ino = listener_inode(s->netns, pkt->family, pkt->daddr, pkt->dport);
}

/* find_socket fills s for a drop: the socket the kernel passed, else the
 * one the packet carries, else (match_listeners) the tables'. */
static __always_inline void find_socket(__u64 *ctx, struct sk_buff *skb, struct tcp_packet *pkt,
					struct drop_socket *s)
{
	struct sock *sk = passed_socket(ctx);
	if (!sk)
		sk = skb->sk;
	s->sk = sk;
	s->ino = socket_inode(sk);
	s->state = tcp_state(sk);
	if (!s->ino && !sk && match_listeners && before_tcp(skb, pkt))
		firewalled_socket(skb, pkt, s);
}

#endif
