/* SPDX-License-Identifier: GPL-2.0 */
/* Part of tcpdrop.c: the events, one record per drop or reset sent through
 * a ring buffer to user space (internal/probe/read.go), batched and
 * rate-limited. */
#ifndef TCPDROP_EVENTS_H
#define TCPDROP_EVENTS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../kernel_consts.h"
#include "../kernel_types.h"
#include "../tcpdrop.h"
#include "counts.h"
#include "drop_socket.h"
#include "packet.h"

/* Set by the loader before load. */
const volatile __u64 wakeup_bytes = 1;
const volatile __u64 max_events_per_sec = 0; /* 0: no limit */
/* Send each event with its kernel stack (struct drop_event_stack). */
const volatile __u8 kernel_stack = 0;

/* Puts struct drop_event into the object's BTF, where bpf2go finds it and
 * generates the Go mirror the decoder takes its offsets from. Read-only
 * data, so it adds no map of its own. */
const struct drop_event *const drop_event_btf_anchor __attribute__((unused)) = 0;
const struct drop_event_stack *const drop_event_stack_btf_anchor __attribute__((unused)) = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 23); /* resized by the loader */
} tcpdrop_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_window);
} tcpdrop_window SEC(".maps");

/* wakeup_flag wakes the reader only when this record makes the unread data
 * cross wakeup_bytes: one wakeup per batch instead of one per event. The
 * reader polls with a deadline to pick up what stays below the mark. */
static __always_inline __u64 wakeup_flag(void)
{
	__u64 avail = bpf_ringbuf_query(&tcpdrop_events, BPF_RB_AVAIL_DATA);
	__u64 size = kernel_stack ? sizeof(struct drop_event_stack) : sizeof(struct drop_event);
	/* A record is its header and the event, rounded up to 8 bytes. */
	__u64 record = (size + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL;
	if (avail >= wakeup_bytes && avail < wakeup_bytes + record)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* over_event_limit sheds events beyond max_events_per_sec, so that a flood
 * costs the dropping CPUs only the counting. The window is shared by all
 * CPUs and reset without a lock: at a window's edge a few events more may
 * pass. Every shed event is counted; the exact counts are not affected. */
static __always_inline int over_event_limit(__u64 now)
{
	if (!max_events_per_sec)
		return 0;
	__u32 zero = 0;
	struct event_window *w = bpf_map_lookup_elem(&tcpdrop_window, &zero);
	if (!w)
		return 0;
	if (now - w->start_ns >= NSEC_PER_SEC) {
		w->start_ns = now;
		w->events = 0;
	}
	/* A full window is only read: the CPUs then share its cache line
	 * instead of passing it back and forth with an atomic add per shed
	 * event, which is most events in a flood. */
	if (w->events >= max_events_per_sec)
		return 1;
	__sync_fetch_and_add(&w->events, 1);
	return 0;
}

/* fill_event writes the fields of e, a drop or reset (key: its count's key,
 * s: its socket, dev and ifindex: its device, 0 when none; n: the packets
 * it stands for) seen now. */
static __always_inline void fill_event(struct drop_event *e, __u64 now, struct net_device *dev,
				       __u32 ifindex, struct tcp_packet *pkt, struct count_key *key,
				       struct drop_socket *s, __u16 n)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	e->time_ns = now;
	e->location = key->location;
	e->sock_ino = key->sock_ino;
	e->tgid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->reason = key->reason;
	e->netns = s->have_netns ? s->netns : netns_inode(dev, s->sk);
	e->ifindex = ifindex;
	e->sport = pkt->sport;
	e->dport = pkt->dport;
	__builtin_memcpy(e->saddr, pkt->saddr, 16);
	__builtin_memcpy(e->daddr, pkt->daddr, 16);
	e->family = pkt->family;
	e->tcp_flags = pkt->flags;
	e->has_reason = key->has_reason;
	e->state = key->state;
	/* kind, the padding after it and packets in one store (little endian) */
	*(__u32 *)&e->kind = key->kind | (__u32)n << 16;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (dev) {
		/* Two 8-byte loads: direct BTF access allows no wider ones. */
		*(__u64 *)&e->ifname[0] = *(__u64 *)&dev->name[0];
		*(__u64 *)&e->ifname[8] = *(__u64 *)&dev->name[8];
	} else {
		__builtin_memset(e->ifname, 0, sizeof(e->ifname));
	}
}

/* events_lost counts n packets whose event the ring did not get. */
static __always_inline void events_lost(__u16 n)
{
	struct probe_stats *st = stats();
	if (st)
		st->lost += n;
}

/* send_event sends the event of a drop or reset, standing for n of its
 * count's packets, to the ring, unless over the event rate limit or the
 * ring is full: both are counted in struct probe_stats, in packets. */
static __always_inline void send_event(__u64 *ctx, struct net_device *dev, __u32 ifindex,
				       struct tcp_packet *pkt, struct count_key *key,
				       struct drop_socket *s, __u16 n)
{
	__u64 now = bpf_ktime_get_ns();
	if (over_event_limit(now)) {
		struct probe_stats *st = stats();
		if (st)
			st->shed += n;
		return;
	}
	/* The loader fixes kernel_stack: the verifier sees one of the two. */
	struct drop_event *e;
	if (kernel_stack)
		e = bpf_ringbuf_reserve(&tcpdrop_events, sizeof(struct drop_event_stack), 0);
	else
		e = bpf_ringbuf_reserve(&tcpdrop_events, sizeof(*e), 0);
	if (!e) {
		events_lost(n);
		return;
	}
	fill_event(e, now, dev, ifindex, pkt, key, s, n);
	if (kernel_stack) {
		struct drop_event_stack *es = (struct drop_event_stack *)e;
		/* Fills the rest of the buffer with zeros. */
		es->stack_bytes = bpf_get_stack(ctx, es->stack, sizeof(es->stack), 0);
	}
	bpf_ringbuf_submit(e, wakeup_flag());
}

#endif
