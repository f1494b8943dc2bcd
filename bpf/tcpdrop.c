// SPDX-License-Identifier: GPL-2.0
/* tcp_drop: report the TCP packets the kernel drops, and the resets and
 * retransmissions it sends.
 *
 * Attached to the kfree_skb tracepoint (tp_btf). For every freed packet that
 * carries TCP over IPv4 or IPv6 it
 *   - counts it exactly, per CPU, by (owning socket, reason, location), in
 *     the count map user space last switched to (tcpdrop/counts.h), and
 *   - writes an event to a ring buffer whose reader is woken in batches,
 *     for the first records_per_key drops of its key on its CPU in a
 *     collection interval: the rest are repeats, only counted
 *     (tcpdrop/events.h, tcpdrop/record.h).
 * Everything else returns after reading a couple of header bytes. The
 * resets and the retransmissions, counted and sent the same way, are
 * tcpdrop/reset.h and tcpdrop/retransmit.h; the failed connects
 * tcpdrop/connect.h.
 *
 * bpf2go builds one object from this one file: its parts are headers under
 * tcpdrop/, one job each, and the listener iterator, a program of the same
 * object, is included as tcpdrop/listener_socks_iter.c. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "kernel_types.h"
#include "tcpdrop.h"
#include "tcpdrop/counts.h"
#include "tcpdrop/drop_socket.h"
#include "tcpdrop/events.h"
#include "tcpdrop/filters.h"
#include "tcpdrop/packet.h"
#include "tcpdrop/record.h"
#include "tcpdrop/reset.h"
#include "tcpdrop/retransmit.h"
#include "tcpdrop/connect.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
/* A reason left to user space, which counts it better from the kernel's own
 * counters (TCP_LISTEN_OVERFLOW: kfree_skb sees only some of those). 0: none. */
const volatile __u32 skip_reason = 0;

/* Why kfree_skb freed a packet. */
struct drop_reason {
	__u32 reason;
	__u8 has_reason;  /* the kernel gives reasons (5.17+) */
	__u8 unspecified; /* NOT_SPECIFIED, or no reason given */
};

/* read_reason reads the reason kernels since 5.17 pass kfree_skb (ctx[2]);
 * older ones pass none, which counts as NOT_SPECIFIED. Returns 1 for
 * skip_reason. Reading ctx past the tracepoint's last argument fails
 * verification: the check before it is a constant the loader resolves. */
static __always_inline int read_reason(__u64 *ctx, struct drop_reason *r)
{
	r->unspecified = 1;
	if (!bpf_core_field_exists(struct trace_event_raw_kfree_skb, reason))
		return 0;
	r->reason = (__u32)ctx[2];
	r->has_reason = 1;
	if (skip_reason && r->reason == skip_reason)
		return 1;
	__u32 not_specified =
		bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED);
	r->unspecified = r->reason == not_specified;
	return 0;
}

SEC("tp_btf/kfree_skb")
int tcpdrop_kfree(__u64 *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx[0];
	struct tcp_packet pkt = {};
	if (parse_tcp(skb, &pkt))
		return 0;
	struct drop_reason why = {};
	if (read_reason(ctx, &why))
		return 0;
	/* A listen overflow user space counts, on kernels without
	 * TCP_LISTEN_OVERFLOW: skipped like skip_reason. */
	if (skip_queue_full && why.unspecified && handshake_ack(pkt.flags) &&
	    listen_overflow(ctx, skb, &pkt))
		return 0;
	struct drop_socket owner = {};
	find_socket(ctx, skb, &pkt, &owner);
	struct net_device *dev = skb->dev;

	struct count_key key = {
		.location = ctx[1],
		.sock_ino = owner.ino,
		.reason = why.reason,
		.has_reason = why.has_reason,
		.state = owner.state,
		.kind = COUNT_KIND_DROP,
	};
	record(ctx, dev, dev ? dev->ifindex : skb->skb_iif, &pkt, &key, &owner);
	return 0;
}

#include "tcpdrop/listener_socks_iter.c"
