/* SPDX-License-Identifier: GPL-2.0 */
/* Part of tcpdrop.c: the resets this host sends, counted and sent as events
 * like drops (kind COUNT_KIND_RESET), from the tcp_send_reset tracepoint
 * (docs/design.md: "Resets, retransmissions, failed connects"). */
#ifndef TCPDROP_RESET_H
#define TCPDROP_RESET_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "../kernel_consts.h"
#include "../kernel_types.h"
#include "../sock_births.h"
#include "../tcpdrop.h"
#include "drop_socket.h"
#include "events.h"
#include "filters.h"
#include "packet.h"
#include "record.h"

/* answered_packet fills pkt with the reset that answers seg, the segment
 * the kernel received: its addresses and ports reversed, RST, and ACK when
 * seg had none (the kernel then acknowledges it). Returns 0 on success. */
static __always_inline int answered_packet(struct sk_buff *seg, struct tcp_packet *pkt)
{
	struct tcp_packet in = {};
	if (parse_tcp(seg, &in))
		return -1;
	pkt->family = in.family;
	pkt->sport = in.dport;
	pkt->dport = in.sport;
	__builtin_memcpy(pkt->saddr, in.daddr, 16);
	__builtin_memcpy(pkt->daddr, in.saddr, 16);
	pkt->flags = TCP_FLAG_RST | ((in.flags & TCP_FLAG_ACK) ? 0 : TCP_FLAG_ACK);
	return 0;
}

/* socket_packet fills pkt with the reset sk, a full socket, sends on its
 * own (an active reset: RST and ACK), from sk's addresses and ports. The
 * local port is inet_sport: an abort closes the socket first, which
 * releases its port (skc_num 0). */
static __always_inline void socket_packet(struct sock *sk, struct tcp_packet *pkt)
{
	struct sock_common *c = &sk->__sk_common;
	pkt->sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	pkt->dport = bpf_ntohs(c->skc_dport);
	pkt->flags = TCP_FLAG_RST | TCP_FLAG_ACK;
	sock_addresses(c, pkt);
}

/* file_released tells whether f's last reference is gone: it is being
 * released (__fput), and the reset is sent from its socket's release. */
static __always_inline int file_released(struct file *f)
{
	if (bpf_core_field_exists(f->f_ref))
		return f->f_ref.refcnt.counter < 0;
	return f->f_count.counter == 0;
}

/* closed_by_holder tells whether the reset of sk, a full socket, is sent
 * as the process that held it closes it (close() with data unread,
 * SO_LINGER 0, or exit): its file is being released, which the kernel
 * does in the task that let go of the last reference, unless that is a
 * kernel thread (a deferred release, in a worker). A reset from a timer
 * (a keepalive timeout) happens while the file is open. */
static __always_inline int closed_by_holder(struct sock *sk)
{
	struct file *f = sk->sk_socket ? sk->sk_socket->file : 0;
	if (!f || !file_released(f))
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	return !(BPF_CORE_READ(task, flags) & PF_KTHREAD);
}

/* reset_packet fills pkt with the reset sent: the answer to seg, else sk's
 * own. Returns 0 on success. */
static __always_inline int reset_packet(struct sock *sk, struct sk_buff *seg,
					struct tcp_packet *pkt)
{
	if (seg)
		return answered_packet(seg, pkt);
	socket_packet(sk, pkt);
	return 0;
}

/* Kernels since 6.10 pass the reset's reason (enum sk_rst_reason, ctx[2])
 * and trace socket-less resets too (sk NULL); older ones pass only sk and
 * the segment, and trace only resets with a socket. The segment is NULL for
 * an active reset (a close with unread data, SO_LINGER 0, a keepalive
 * timeout). Reading ctx past the tracepoint's last argument fails
 * verification: the check before it is a constant the loader resolves.
 *
 * The count key needs no packet: under a flood of resets most are repeats
 * or count_only, so the packet, the device and the namespace are read only
 * for an event, unless a port filter's verdict is part of the key. */
SEC("tp_btf/tcp_send_reset")
int tcpdrop_reset(__u64 *ctx)
{
	struct sock *sk = (struct sock *)ctx[0];
	struct sk_buff *seg = (struct sk_buff *)ctx[1];
	/* A barrier between the two tests: clang would merge them into an OR
	 * of the pointers, which the verifier refuses. */
	if (!seg) {
		barrier_var(sk);
		if (!sk)
			return 0;
	}
	struct count_key key = { .kind = COUNT_KIND_RESET };
	if (bpf_core_field_exists(struct trace_event_raw_tcp_send_reset, reason)) {
		key.reason = (__u32)ctx[2];
		key.has_reason = 1;
	}
	struct drop_socket owner = { .sk = sk };
	owner.ino = socket_inode(sk);
	/* Its holder is known now, not once the socket is gone: the only
	 * record of an accepted socket's (a connected or listening one keeps
	 * the process that made it so). */
	if (!seg && owner.ino && closed_by_holder(sk))
		remember_birth(owner.ino, BPF_NOEXIST);
	owner.state = tcp_state(sk);
	key.sock_ino = owner.ino;
	key.state = owner.state;

	/* A segment whose headers cannot be read (TCP has just read them) is
	 * counted all the same: ports 0 for the port filter, its event lost. */
	struct tcp_packet pkt = {};
	int have_pkt = port_filter && !reset_packet(sk, seg, &pkt);
	__u16 n = 1;
	if (!count_event(&key, &pkt, &n))
		return 0;
	if (!have_pkt && reset_packet(sk, seg, &pkt)) {
		events_lost(n);
		return 0;
	}
	struct net_device *dev = seg ? seg->dev : 0;
	send_event(ctx, dev, dev ? dev->ifindex : (seg ? seg->skb_iif : 0), &pkt, &key, &owner, n);
	return 0;
}

#endif
