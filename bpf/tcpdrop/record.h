/* SPDX-License-Identifier: GPL-2.0 */
/* Part of tcpdrop.c: what every program does with what it saw, a drop, a
 * reset or a retransmission: count it exactly, then send it as an event
 * unless it is filtered out or a repeat. */
#ifndef TCPDROP_RECORD_H
#define TCPDROP_RECORD_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../tcpdrop.h"
#include "counts.h"
#include "drop_socket.h"
#include "events.h"
#include "filters.h"
#include "packet.h"

/* Set by the loader before load. */
const volatile __u8 count_only = 0;
/* How many of each count key, on each CPU, in each collection interval
 * (each count map's life) become events; the later ones are repeats. The
 * per-CPU count just incremented says which it is, so a repeat costs no
 * state, no map access and no event: user space knows the repeats from the
 * counts alone (internal/probe/counts.go). 0: no limit. */
const volatile __u64 records_per_key = 0;

/* count_event counts *n packets of key, with the log filters' verdict, and
 * tells whether they go out as an event: not with count_only, when
 * filtered out, nor for repeats. *n becomes how many of them the event
 * stands for. The port filter reads pkt: a caller that has its packet read
 * only for the event needs it read first when port_filter is set. The
 * reason filter is a set of drop reasons: it applies to drops only. A
 * retransmission of several segments is one event, standing for those of
 * its segments that are within records_per_key: user space counts the rest
 * as repeats (internal/probe/counts.go), so that events and repeats add up
 * to the count in segments too. A flag and not the packets: a constant n
 * of 1 then leaves no test behind in the drop program. */
static __always_inline int count_event(struct count_key *key, struct tcp_packet *pkt, __u16 *np)
{
	__u16 n = *np;
	/* An excluded one is counted as such (count_key.filtered), in its
	 * only map access: it costs its count and the filter's bit tests. */
	__u8 drop_reason = key->kind == COUNT_KIND_DROP && key->has_reason;
	key->filtered = !count_only && filtered_out(key->reason, drop_reason, pkt);
	__u64 nth = count_n(key, n);

	if (count_only || key->filtered)
		return 0;
	/* Repeats: the count is all there is of them. An uncounted one (nth
	 * 0) still goes out as an event, whole. */
	if (records_per_key && nth > records_per_key) {
		__u64 before = nth - n;
		if (before >= records_per_key)
			return 0;
		*np = records_per_key - before;
	}
	return 1;
}

/* record_n counts what key says, n packets (its socket s, its packet pkt,
 * seen on dev, ifindex) and sends its event (count_event). */
static __always_inline void record_n(__u64 *ctx, struct net_device *dev, __u32 ifindex,
				     struct tcp_packet *pkt, struct count_key *key,
				     struct drop_socket *s, __u16 n)
{
	if (count_event(key, pkt, &n))
		send_event(ctx, dev, ifindex, pkt, key, s, n);
}

/* record counts and sends one packet: a drop or a reset (record_n). */
static __always_inline void record(__u64 *ctx, struct net_device *dev, __u32 ifindex,
				   struct tcp_packet *pkt, struct count_key *key,
				   struct drop_socket *s)
{
	record_n(ctx, dev, ifindex, pkt, key, s, 1);
}

#endif
