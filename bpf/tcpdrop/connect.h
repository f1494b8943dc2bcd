/* SPDX-License-Identifier: GPL-2.0 */
/* Part of tcpdrop.c: the connects this host makes that fail, counted and
 * sent as events like drops (kind COUNT_KIND_CONNECT_FAILED), from the
 * sock:inet_sock_set_state tracepoint (docs/design.md: "Resets,
 * retransmissions, failed connects"). */
#ifndef TCPDROP_CONNECT_H
#define TCPDROP_CONNECT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../kernel_consts.h"
#include "../kernel_types.h"
#include "../tcpdrop.h"
#include "drop_socket.h"
#include "packet.h"
#include "record.h"
#include "reset.h"

/* struct sock's field this program alone reads, declared here for CO-RE (a
 * flavour of struct sock) so that the other objects stay as they are. */
struct sock___connect {
	int sk_err; /* the error the socket's user is told next; 0: none */
} __attribute__((preserve_access_index));

/* A connect fails when its socket goes from SYN_SENT to CLOSE with an error
 * for its user: every kernel path that ends one in tcp_done() sets sk_err
 * first (tcp_reset: ECONNREFUSED; tcp_write_err: ETIMEDOUT, or the soft
 * error an ICMP left; tcp_v4_err/tcp_v6_err: the ICMP's error; tcp_abort:
 * what SOCK_DESTROY asked), and tcp_done() changes the state. A connect
 * the application gives up (close(), connect(AF_UNSPEC)) goes to CLOSE with
 * sk_err 0: tcp_connect_init cleared it as the SYN was made, and
 * tcp_disconnect sets ECONNRESET only after the change. The
 * tracepoint comes before the state is stored, in tcp_set_state, after the
 * port was released (skc_num 0: socket_packet reads inet_sport). The
 * reason is the errno (has_reason), the location 0, the state SYN_SENT;
 * the packet is the socket's (this host's end as the source) and has no
 * flags: no packet was dropped, the attempt was. The task on the CPU is
 * whichever ran the error (a softirq, a timer): the owner is the socket's
 * inode, whose process the listen-state program recorded at connect(). */
SEC("tp_btf/inet_sock_set_state")
int tcpdrop_connect_failed(__u64 *ctx)
{
	struct sock *sk = (struct sock *)ctx[0];
	int oldstate = (int)ctx[1], newstate = (int)ctx[2];
	if (oldstate != TCP_SYN_SENT || newstate != TCP_CLOSE)
		return 0;
	if (sk->sk_protocol != IPPROTO_TCP || sk->sk_type != SOCK_STREAM)
		return 0;
	int err = ((struct sock___connect *)sk)->sk_err;
	if (err <= 0)
		return 0; /* given up by its application, not failed */
	struct tcp_packet pkt = {};
	socket_packet(sk, &pkt);
	pkt.flags = 0;
	struct drop_socket owner = { .sk = sk };
	owner.ino = socket_inode(sk);
	owner.state = TCP_SYN_SENT;
	struct count_key key = {
		.sock_ino = owner.ino,
		.reason = err,
		.has_reason = 1,
		.state = TCP_SYN_SENT,
		.kind = COUNT_KIND_CONNECT_FAILED,
	};
	record(ctx, 0, 0, &pkt, &key, &owner);
	return 0;
}

#endif
