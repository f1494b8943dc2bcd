/* SPDX-License-Identifier: GPL-2.0 */
/* Part of tcpdrop.c: the log filters, which keep counted drops from being
 * sent as events. */
#ifndef TCPDROP_FILTERS_H
#define TCPDROP_FILTERS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "packet.h"

/* The log filters (internal/probe/filter.go): which counted drops are sent
 * as events. reason_filter says what the reasons in reason_set are:
 * REASONS_ALL ignores the set, REASONS_EXCLUDED are not sent, REASONS_ONLY
 * are the only ones sent (drops without a reason, before 5.17, are never
 * filtered by reason). A reason's bit is its subsystem (the high 16 bits)
 * times REASON_SET_CODES plus its code. With port_filter set, only drops
 * whose source or destination port is in port_set are sent. Read-only
 * data: a bit test costs a load, no map lookup. */
#define REASONS_ALL 0
#define REASONS_EXCLUDED 1
#define REASONS_ONLY 2
#define REASON_SET_SUBSYS 8
#define REASON_SET_CODES 512
#define REASON_SET_BITS (REASON_SET_SUBSYS * REASON_SET_CODES)
const volatile __u8 reason_filter = REASONS_ALL;
const volatile __u64 reason_set[REASON_SET_BITS / 64] = {};
const volatile __u8 port_filter = 0;
const volatile __u64 port_set[65536 / 64] = {};

static __always_inline int reason_in_set(__u32 reason)
{
	__u32 subsys = reason >> 16, code = reason & 0xffff;
	if (subsys >= REASON_SET_SUBSYS || code >= REASON_SET_CODES)
		return 0; /* the loader refuses to put such a reason in the set */
	__u32 bit = subsys * REASON_SET_CODES + code;
	/* clang merges the tests above into one the verifier cannot follow:
	 * the mask, after a barrier, bounds the index for it. */
	barrier_var(bit);
	bit &= REASON_SET_BITS - 1;
	return (reason_set[bit / 64] >> (bit % 64)) & 1;
}

static __always_inline int port_in_set(__u16 port)
{
	/* The mask tells the verifier what the type already says. */
	return (port_set[(port / 64) & (65536 / 64 - 1)] >> (port % 64)) & 1;
}

/* filtered_out tells whether the log filters keep a drop from being sent. */
static __always_inline __u8 filtered_out(__u32 reason, __u8 has_reason, struct tcp_packet *pkt)
{
	if (reason_filter != REASONS_ALL && has_reason) {
		int in = reason_in_set(reason);
		if (reason_filter == REASONS_EXCLUDED ? in : !in)
			return 1;
	}
	return port_filter && !port_in_set(pkt->sport) && !port_in_set(pkt->dport);
}

#endif
