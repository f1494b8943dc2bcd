/* SPDX-License-Identifier: GPL-2.0 */
/* Part of tcpdrop.c: the segments this host sends again, counted and sent
 * as events like drops (kind COUNT_KIND_RETRANSMIT), from the
 * tcp_retransmit_skb and tcp_retransmit_synack tracepoints
 * (docs/design.md: "Resets, retransmissions, failed connects").
 *
 * A retransmission is counted in segments, as the kernel counts it in
 * Tcp:RetransSegs: __tcp_retransmit_skb adds tcp_skb_pcount(skb), the
 * segments its possibly GSO skb is sent as, and tcp_rtx_synack adds 1. Its
 * reason is enum retransmit_reason (tcpdrop.h): SYN and SYN_ACK are what
 * TcpExt:TCPSynRetrans counts. */
#ifndef TCPDROP_RETRANSMIT_H
#define TCPDROP_RETRANSMIT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "../kernel_consts.h"
#include "../kernel_types.h"
#include "../tcpdrop.h"
#include "drop_socket.h"
#include "packet.h"
#include "record.h"

/* conn_packet fills pkt with a segment the connection (or request socket) c
 * sends: its addresses and ports, this host's as the source, and flags. */
static __always_inline void conn_packet(struct sock_common *c, __u8 flags, struct tcp_packet *pkt)
{
	pkt->sport = c->skc_num;
	pkt->dport = bpf_ntohs(c->skc_dport);
	pkt->flags = flags;
	sock_addresses(c, pkt);
}

/* not_counted tells the results of __tcp_retransmit_skb that return before
 * it counts the segments in Tcp:RetransSegs: the original still in a host
 * queue (-EBUSY), a segment already acknowledged (-EINVAL, a WARN), no
 * memory to trim, split or unclone it (-ENOMEM), no route (-EHOSTUNREACH),
 * a zero window (-EAGAIN). Kernels since 6.17 trace these too. Any other
 * error is the transmission's (a firewall's -EPERM, a full qdisc's 1): the
 * segments were counted, and are here, though they did not leave. A
 * transmission failing with one of these five errors (a neighbour entry not
 * made, -EINVAL; memory, -ENOMEM) is missed. */
static __always_inline int not_counted(int err)
{
	return err == -EBUSY || err == -EINVAL || err == -ENOMEM || err == -EHOSTUNREACH ||
	       err == -EAGAIN;
}

/* segment_reason says which retransmission of sk a segment with flags is.
 * A tail loss probe (tcp_send_loss_probe, which resends the last segment
 * when no new one can go) runs only from the socket's timer handler while
 * the timer it handles is ICSK_TIME_LOSS_PROBE, and only in the states that
 * arm it (Open, Disorder, CWR); every other retransmission runs with
 * another timer (an RTO clears icsk_pending first, RACK's is REO_TIMEOUT)
 * or from an ACK in Recovery or Loss, entered before it retransmits. A fast
 * retransmission from an ACK that came while a probe was armed, in
 * Recovery, is thus data; a probe whose timer survived into Recovery would
 * be counted as data too (the kernel rearms the timer on entering it). */
static __always_inline __u32 segment_reason(struct sock *sk, __u8 flags)
{
	if (flags & TCP_FLAG_SYN)
		return (flags & TCP_FLAG_ACK) ? RETRANSMIT_SYN_ACK : RETRANSMIT_SYN;
	/* Fields past struct sock: the verifier allows helpers only. */
	struct inet_connection_sock *icsk = (void *)sk;
	if (BPF_CORE_READ(icsk, icsk_pending) == ICSK_TIME_LOSS_PROBE &&
	    BPF_CORE_READ_BITFIELD_PROBED(icsk, icsk_ca_state) < TCP_CA_RECOVERY)
		return RETRANSMIT_LOSS_PROBE;
	return RETRANSMIT_DATA;
}

/* A segment of a full socket sent again: data, a FIN, a connect's SYN (or
 * a simultaneous open's SYN-ACK). Before 6.17 the tracepoint passes the
 * socket and the segment and fires only for a retransmission that left;
 * since 6.17 it passes the result too (err, ctx[2]) and fires for every
 * try. The segment is in the retransmit queue, where TCP keeps no header:
 * its flags and segment count are TCP's (struct tcp_skb_cb), and skb->dev
 * shares its place with the queue's tree links, so there is no device.
 * Reading ctx past the tracepoint's last argument fails verification: the
 * check before it is a constant the loader resolves. */
SEC("tp_btf/tcp_retransmit_skb")
int tcpdrop_retransmit(__u64 *ctx)
{
	struct sock *sk = (struct sock *)ctx[0];
	struct sk_buff *skb = (struct sk_buff *)ctx[1];
	if (bpf_core_field_exists(struct trace_event_raw_tcp_retransmit_skb, err) &&
	    not_counted((int)ctx[2]))
		return 0;
	struct tcp_skb_cb *cb = (void *)skb->cb;
	__u16 segs = cb->tcp_gso_segs;
	/* The eight classic flags: the low byte, little endian. */
	__u8 flags = BPF_CORE_READ_BITFIELD(cb, tcp_flags);

	struct tcp_packet pkt = {};
	conn_packet(&sk->__sk_common, flags, &pkt);
	struct drop_socket owner = { .sk = sk };
	owner.ino = socket_inode(sk);
	owner.state = tcp_state(sk);
	struct count_key key = {
		.sock_ino = owner.ino,
		.reason = segment_reason(sk, flags),
		.has_reason = 1,
		.state = owner.state,
		.kind = COUNT_KIND_RETRANSMIT,
	};
	/* A segment held for sending is at least one (the kernel WARNs on 0). */
	record_n(ctx, 0, 0, &pkt, &key, &owner, segs ? segs : 1);
	return 0;
}

/* A listener's SYN-ACK sent again for a request socket (a handshake it
 * answered, whose ACK has not come), by its timer or for a repeated SYN:
 * tcp_rtx_synack traces it after sending it, counted in Tcp:RetransSegs and
 * TcpExt:TCPSynRetrans, as on every kernel since 4.16. Its owner is the
 * request's listener (a Fast Open child's too: the tracepoint's socket is
 * then the child, which no process may hold yet), its state the request's
 * (TCP_NEW_SYN_RECV). */
SEC("tp_btf/tcp_retransmit_synack")
int tcpdrop_retransmit_synack(__u64 *ctx)
{
	struct sock *sk = (struct sock *)ctx[0];
	struct request_sock *req = (struct request_sock *)ctx[1];
	struct sock_common *c = &req->__req_common;

	struct tcp_packet pkt = {};
	conn_packet(c, TCP_FLAG_SYN | TCP_FLAG_ACK, &pkt);
	/* A request socket is smaller than a socket: helpers only past
	 * sock_common. */
	struct sock *listener = BPF_CORE_READ(c, skc_listener);
	struct drop_socket owner = { .sk = sk };
	owner.ino = socket_inode_number(BPF_CORE_READ(listener, sk_socket));
	owner.state = c->skc_state;
	struct count_key key = {
		.sock_ino = owner.ino,
		.reason = RETRANSMIT_SYN_ACK,
		.has_reason = 1,
		.state = owner.state,
		.kind = COUNT_KIND_RETRANSMIT,
	};
	record(ctx, 0, 0, &pkt, &key, &owner);
	return 0;
}

#endif
