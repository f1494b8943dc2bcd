// SPDX-License-Identifier: GPL-2.0
/* tcp_drop: report the TCP packets the kernel drops.
 *
 * Attached to the kfree_skb tracepoint (tp_btf). For every freed packet that
 * carries TCP over IPv4 or IPv6 it
 *   - counts it exactly, per CPU, by (owning socket, reason, location), in
 *     the count map user space last switched to (see tcpdrop_counts), and
 *   - writes an event to a ring buffer whose reader is woken in batches,
 *     for the first records_per_key drops of its key on its CPU in a
 *     collection interval: the rest are repeats, only counted.
 * Everything else returns after reading a couple of header bytes.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "kernel_types.h"
#include "tcpdrop.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IP_OFFSET_MASK 0x1fff
#define NO_HEADER ((__u16)~0U)
/* enum of the socket states (include/net/tcp_states.h) */
#define TCP_TIME_WAIT 6
#define TCP_LISTEN 10
#define TCP_NEW_SYN_RECV 12
/* struct tcp_packet's family, and the IP header's version */
#define FAMILY_IPV4 4
#define FAMILY_IPV6 6
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10
#define SOCK_STREAM 1
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EEXIST 17
#define NSEC_PER_SEC 1000000000ULL

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
const volatile __u64 wakeup_bytes = 1;
const volatile __u8 count_only = 0;
const volatile __u64 max_events_per_sec = 0; /* 0: no limit */
/* How many drops of each count key, on each CPU, in each collection
 * interval (each count map's life) become events; the later ones are
 * repeats. The per-CPU count the drop has just incremented says which it
 * is, so a repeat costs no state, no map access and no event: user space
 * knows the repeats from the counts alone (internal/probe/counts.go).
 * 0: no limit. */
const volatile __u64 records_per_key = 0;
/* A reason left to user space, which counts it better from the kernel's own
 * counters (TCP_LISTEN_OVERFLOW: kfree_skb sees only some of those). 0: none. */
const volatile __u32 skip_reason = 0;
/* The same for kernels without TCP_LISTEN_OVERFLOW (before 6.16), which free a
 * listen overflow of the ACK path like other drops: recognised by the state
 * of its listener (see listener_queue_full). */
const volatile __u8 skip_queue_full = 0;
/* Look up socket-less packets in tcpdrop_listeners (filled by user space),
 * if they were dropped before TCP had them (see before_tcp). */
const volatile __u8 match_listeners = 0;
/* Send each event with its kernel stack (struct drop_event_stack). */
const volatile __u8 kernel_stack = 0;

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

/* Puts struct drop_event into the object's BTF, where bpf2go finds it and
 * generates the Go mirror the decoder takes its offsets from. Read-only
 * data, so it adds no map of its own. */
const struct drop_event *const drop_event_btf_anchor __attribute__((unused)) = 0;
const struct drop_event_stack *const drop_event_stack_btf_anchor __attribute__((unused)) = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 23); /* resized by the loader */
} tcpdrop_events SEC(".maps");

/* The exact counts live in two maps of this type. The program counts into
 * the one tcpdrop_counts holds; user space, at each collection, puts the
 * other (empty) one there, then reads the first out and empties it
 * (internal/probe/counts.go: why no increment is lost). A map thus holds
 * the keys of one collection interval only. */
struct count_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384); /* resized by the loader */
	__type(key, struct count_key);
	__type(value, __u64); /* packets */
};
struct count_map tcpdrop_counts_a SEC(".maps"), tcpdrop_counts_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct count_map);
} tcpdrop_counts SEC(".maps") = {
	.values = { &tcpdrop_counts_a },
};

/* In front of each count map, a small per-CPU direct-mapped cache of
 * counts: a key's count lives in its slot (found by a hash of the key, with
 * no map lookup) when the slot was free for it in this interval, else in
 * the hash map. An array load and three compares cost less than a hash
 * lookup, and a flood is few keys. A slot is never given to another key
 * within an interval, so each count is in exactly one place; user space
 * drains the slots with the map (internal/probe/counts.go). */
#define COUNT_SLOTS 64
struct count_slots {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNT_SLOTS);
	__type(key, __u32);
	__type(value, struct count_slot);
};
struct count_slots tcpdrop_slots_a SEC(".maps"), tcpdrop_slots_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct count_slots);
} tcpdrop_slots SEC(".maps") = {
	.values = { &tcpdrop_slots_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_stats);
} tcpdrop_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_window);
} tcpdrop_window SEC(".maps");

#include "listener_maps.h"
#include "sock_inode.h"

/* What the program needs to know about one TCP packet. */
struct tcp_packet {
	unsigned char *l3; /* its network header */
	__u8 family;
	__u8 flags;
	__u16 sport, dport;
	__u8 saddr[16], daddr[16];
};

struct tcp_header_start {
	__be16 source, dest;
	__be32 seq, ack_seq;
	__u8 doff_res;
	__u8 flags;
};

struct ipv4_header {
	__u8 ihl_version;
	__u8 tos;
	__be16 tot_len, id, frag_off;
	__u8 ttl, protocol;
	__be16 check;
	__be32 saddr, daddr;
};

struct ipv6_header {
	__be32 version_class_flow;
	__be16 payload_len;
	__u8 nexthdr, hop_limit;
	__u8 saddr[16], daddr[16];
};

/* The first bytes of a packet from its network header on: one read covers
 * an IPv6 header without extension headers or an IPv4 header with up to 28
 * bytes of options, and the start of the TCP header after it. */
#define HEADERS_READ 64
#define TCP_START_LEN sizeof(struct tcp_header_start)

#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_AH 51
#define IPPROTO_DSTOPTS 60
#define IPV6_EXT_MAX 6
#define IPV6_FRAG_OFFSET_MASK 0xfff8
#define IPV6_FRAG_HDR_LEN 8

/* ipv6_skip_ext follows the IPv6 extension headers from the one of type
 * next, at the end of the fixed header, and returns the offset of the TCP
 * header after them; 0 when another protocol, encrypted data (ESP), a
 * later fragment or more than IPV6_EXT_MAX headers come first. Only
 * packets with extension headers get here: a read per header. */
static __always_inline __u32 ipv6_skip_ext(unsigned char *l3, __u8 next)
{
	__u32 off = sizeof(struct ipv6_header);
#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		/* Each begins with its next header; then a length, or (for a
		 * fragment) a reserved byte and the fragment offset. */
		__u8 ext[4];
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_FRAGMENT:
		case IPPROTO_AH:
			break;
		default:
			return 0;
		}
		if (bpf_probe_read_kernel(ext, sizeof(ext), l3 + off))
			return 0;
		if (next == IPPROTO_FRAGMENT) {
			if (bpf_ntohs(*(__be16 *)&ext[2]) & IPV6_FRAG_OFFSET_MASK)
				return 0; /* no TCP header in a later fragment */
			off += IPV6_FRAG_HDR_LEN;
		} else if (next == IPPROTO_AH) {
			off += (ext[1] + 2) * 4; /* in 4-byte units, less 2 */
		} else {
			off += (ext[1] + 1) * 8; /* in 8-byte units, less 1 */
		}
		next = ext[0];
		if (next == IPPROTO_TCP)
			return off;
	}
	return 0;
}

/* parse_tcp reads the IP and TCP headers from the packet itself: the
 * tracepoint's protocol is only the ethertype. Returns 0 for TCP. */
static __always_inline int parse_tcp(struct sk_buff *skb, struct tcp_packet *pkt)
{
	/* Every freed packet passes here: plain BTF loads, no helper calls,
	 * until the packet is known to be IP. */
	__be16 proto = skb->protocol;
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return -1;

	__u16 nh = skb->network_header;
	if (nh == NO_HEADER)
		return -1;
	unsigned char *l3 = skb->head + nh;
	pkt->l3 = l3;

	__u8 buf[HEADERS_READ];
	if (bpf_probe_read_kernel(buf, sizeof(buf), l3))
		return -1;

	struct tcp_header_start th;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct ipv4_header *ip = (struct ipv4_header *)buf;
		if ((ip->ihl_version >> 4) != FAMILY_IPV4 || ip->protocol != IPPROTO_TCP)
			return -1;
		/* Later fragments carry no TCP header. */
		if (bpf_ntohs(ip->frag_off) & IP_OFFSET_MASK)
			return -1;
		pkt->family = FAMILY_IPV4;
		__builtin_memcpy(pkt->saddr, &ip->saddr, 4);
		__builtin_memcpy(pkt->daddr, &ip->daddr, 4);
		__u32 ihl = (ip->ihl_version & 0xf) * 4; /* in 4-byte words */
		if (ihl < sizeof(*ip))
			return -1;
		if (ihl + TCP_START_LEN <= sizeof(buf)) {
			__builtin_memcpy(&th, buf + (ihl & (HEADERS_READ - 1)), TCP_START_LEN);
		} else if (bpf_probe_read_kernel(&th, sizeof(th), l3 + ihl)) {
			return -1; /* long IP options: a second read */
		}
	} else {
		struct ipv6_header *ip6 = (struct ipv6_header *)buf;
		__u32 tcp_off = sizeof(*ip6);
		if (ip6->nexthdr != IPPROTO_TCP) {
			tcp_off = ipv6_skip_ext(l3, ip6->nexthdr);
			if (!tcp_off)
				return -1;
		}
		pkt->family = FAMILY_IPV6;
		__builtin_memcpy(pkt->saddr, ip6->saddr, 16);
		__builtin_memcpy(pkt->daddr, ip6->daddr, 16);
		if (tcp_off == sizeof(*ip6))
			__builtin_memcpy(&th, buf + sizeof(*ip6), TCP_START_LEN);
		else if (bpf_probe_read_kernel(&th, sizeof(th), l3 + tcp_off))
			return -1;
	}
	pkt->sport = bpf_ntohs(th.source);
	pkt->dport = bpf_ntohs(th.dest);
	pkt->flags = th.flags;
	return 0;
}

static __always_inline struct probe_stats *stats(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&tcpdrop_stats, &zero);
}

/* count adds one drop to the exact per-CPU counts of the current count map
 * and returns this CPU's count of the key after it (0: not counted).
 * The map is looked up once per drop and used only within this run of the
 * program, which is what lets user space know when it is no longer written.
 * A full map is counted in stats->uncounted so that totals stay exact. */
static __always_inline __u64 count(struct count_key *key)
{
	__u32 zero = 0;
	__u64 *k = (__u64 *)key; /* 24 bytes: three words */
	__u32 idx = ((k[0] ^ k[1] ^ k[2]) * 0x9E3779B97F4A7C15ULL) >> 58; /* 6 bits: COUNT_SLOTS */
	void *slots = bpf_map_lookup_elem(&tcpdrop_slots, &zero);
	struct count_slot *slot = slots ? bpf_map_lookup_elem(slots, &idx) : 0;
	if (slot) {
		__u64 *held = (__u64 *)&slot->key;
		if (!slot->packets) { /* free: this key's for the interval */
			slot->key = *key;
			slot->packets = 1;
			return 1;
		}
		if (held[0] == k[0] && held[1] == k[1] && held[2] == k[2])
			return ++slot->packets; /* per-CPU: no other writer */
	}
	void *counts = bpf_map_lookup_elem(&tcpdrop_counts, &zero);
	long err = -1;
	if (counts) {
		__u64 *packets = bpf_map_lookup_elem(counts, key);
		if (packets)
			return ++(*packets); /* per-CPU: no other writer */
		__u64 one = 1;
		err = bpf_map_update_elem(counts, key, &one, BPF_NOEXIST);
		if (!err)
			return 1;
		if (err == -EEXIST) { /* another CPU added the key first */
			packets = bpf_map_lookup_elem(counts, key);
			if (packets)
				return ++(*packets);
		}
	}
	struct probe_stats *st = stats();
	if (st)
		st->uncounted++;
	return 0;
}

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

static __always_inline __u32 netns_inode(struct net_device *dev, struct sock *sk)
{
	if (dev)
		return dev->nd_net.net->ns.inum;
	if (sk)
		return sk->__sk_common.skc_net.net->ns.inum;
	return 0;
}

/* listener_inode finds the listener a packet was going to, as the kernel
 * would: one bound to its destination address, else one bound to any
 * address of its family. 0: none. */
static __always_inline __u64 listener_inode(__u32 netns, struct tcp_packet *pkt)
{
	struct listener_key lk = { .netns = netns, .port = pkt->dport, .family = pkt->family };
	__builtin_memcpy(lk.addr, pkt->daddr, sizeof(lk.addr));
	__u64 *ino = bpf_map_lookup_elem(&tcpdrop_listeners, &lk);
	if (ino)
		return *ino;
	__builtin_memset(lk.addr, 0, sizeof(lk.addr));
	ino = bpf_map_lookup_elem(&tcpdrop_listeners, &lk);
	return ino ? *ino : 0;
}

/* conn_sock finds the established connection a packet was for
 * (tcpdrop_conns): the local side is its destination. The socket may be
 * stale: helpers only. */
static __always_inline struct sock *conn_sock(__u32 netns, struct tcp_packet *pkt)
{
	struct conn_key ck = { .netns = netns, .lport = pkt->dport, .rport = pkt->sport, .family = pkt->family };
	__builtin_memcpy(ck.laddr, pkt->daddr, sizeof(ck.laddr));
	__builtin_memcpy(ck.raddr, pkt->saddr, sizeof(ck.raddr));
	__u64 *addr = bpf_map_lookup_elem(&tcpdrop_conns, &ck);
	return addr ? (struct sock *)*addr : 0;
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

/* A segment that can complete a handshake: an ACK, no SYN, no RST. */
static __always_inline int handshake_ack(__u8 flags)
{
	return (flags & TCP_FLAG_ACK) && !(flags & (TCP_FLAG_SYN | TCP_FLAG_RST));
}

/* table_listener finds, for kernels that pass no socket, the listener a
 * packet was going to: its inode from tcpdrop_listeners, its address from
 * tcpdrop_listener_socks. */
static __always_inline struct sock *table_listener(__u32 netns, struct tcp_packet *pkt)
{
	__u64 ino = listener_inode(netns, pkt);
	if (!ino)
		return 0;
	__u64 *addr = bpf_map_lookup_elem(&tcpdrop_listener_socks, &ino);
	return addr ? (struct sock *)*addr : 0;
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

SEC("tp_btf/kfree_skb")
int tcpdrop_kfree(__u64 *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx[0];
	struct tcp_packet pkt = {};
	if (parse_tcp(skb, &pkt))
		return 0;

	/* The arguments after location exist only on newer kernels; reading
	 * ctx past the tracepoint's last argument fails verification, so each
	 * read is guarded by a check that the loader resolves to a constant. */
	__u32 reason = 0;
	__u8 has_reason = 0;
	__u8 unspecified = 1; /* no reason given counts as NOT_SPECIFIED */
	if (bpf_core_field_exists(struct trace_event_raw_kfree_skb, reason)) {
		reason = (__u32)ctx[2];
		has_reason = 1;
		if (skip_reason && reason == skip_reason)
			return 0;
		unspecified = reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED);
	}
	/* A listen overflow the watcher counts, on kernels without
	 * TCP_LISTEN_OVERFLOW: skipped like skip_reason. */
	int maybe_overflow = skip_queue_full && unspecified && handshake_ack(pkt.flags);
	struct sock *sk = 0;
	if (bpf_core_field_exists(struct trace_event_raw_kfree_skb, rx_sk)) {
		sk = (struct sock *)ctx[3];
		if (maybe_overflow && listener_queue_full(sk))
			return 0;
		maybe_overflow = 0; /* the socket was passed: no other listener */
	}
	if (!sk)
		sk = skb->sk;

	struct net_device *dev = skb->dev;
	__u64 sock_ino = socket_inode(sk);
	/* The netns inode is read once, only when used: here, or for the event. */
	__u32 netns = 0;
	__u8 have_netns = 0;
	__u8 state = tcp_state(sk);
	if (!sock_ino && !sk && (match_listeners || maybe_overflow)) {
		/* No socket: a firewall drop may be an established
		 * connection's or a listener's, a segment TCP freed may be an
		 * overflow of its listener's queue. */
		int before = before_tcp(skb, &pkt);
		if (before ? match_listeners : maybe_overflow) {
			netns = netns_inode(dev, sk);
			have_netns = 1;
			if (before) {
				struct sock *conn = conn_sock(netns, &pkt);
				if (conn) {
					sock_ino = socket_inode_number(BPF_CORE_READ(conn, sk_socket));
					state = BPF_CORE_READ(conn, __sk_common.skc_state);
				}
				if (!sock_ino)
					sock_ino = listener_inode(netns, &pkt);
			} else if (listener_queue_full(table_listener(netns, &pkt))) {
				return 0;
			}
		}
	}

	struct count_key key = {
		.location = ctx[1],
		.sock_ino = sock_ino,
		.reason = reason,
		.has_reason = has_reason,
		.state = state,
	};
	/* An excluded drop is counted as such (count_key.filtered), in its
	 * only map access: it costs its count and the filter's bit tests. */
	key.filtered = !count_only && filtered_out(reason, has_reason, &pkt);
	__u64 nth = count(&key);

	if (count_only || key.filtered)
		return 0;
	/* A repeat: its count is all there is of it (an uncounted drop, 0,
	 * still goes out as an event). */
	if (records_per_key && nth > records_per_key)
		return 0;

	__u64 now = bpf_ktime_get_ns();
	if (over_event_limit(now)) {
		struct probe_stats *st = stats();
		if (st)
			st->shed++;
		return 0;
	}

	__u64 pid_tgid = bpf_get_current_pid_tgid();
	/* The loader fixes kernel_stack: the verifier sees one of the two. */
	struct drop_event *e;
	if (kernel_stack)
		e = bpf_ringbuf_reserve(&tcpdrop_events, sizeof(struct drop_event_stack), 0);
	else
		e = bpf_ringbuf_reserve(&tcpdrop_events, sizeof(*e), 0);
	if (!e) {
		struct probe_stats *st = stats();
		if (st)
			st->lost++;
		return 0;
	}

	e->time_ns = now;
	e->location = key.location;
	e->sock_ino = key.sock_ino;
	e->tgid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->reason = key.reason;
	e->netns = have_netns ? netns : netns_inode(dev, sk);
	e->ifindex = dev ? dev->ifindex : skb->skb_iif;
	e->sport = pkt.sport;
	e->dport = pkt.dport;
	__builtin_memcpy(e->saddr, pkt.saddr, 16);
	__builtin_memcpy(e->daddr, pkt.daddr, 16);
	e->family = pkt.family;
	e->tcp_flags = pkt.flags;
	e->has_reason = key.has_reason;
	e->state = key.state;
	e->pad_end = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (dev) {
		/* Two 8-byte loads: direct BTF access allows no wider ones. */
		*(__u64 *)&e->ifname[0] = *(__u64 *)&dev->name[0];
		*(__u64 *)&e->ifname[8] = *(__u64 *)&dev->name[8];
	} else {
		__builtin_memset(e->ifname, 0, sizeof(e->ifname));
	}
	if (kernel_stack) {
		struct drop_event_stack *es = (struct drop_event_stack *)e;
		/* Fills the rest of the buffer with zeros. */
		es->stack_bytes = bpf_get_stack(ctx, es->stack, sizeof(es->stack), 0);
	}
	bpf_ringbuf_submit(e, wakeup_flag());
	return 0;
}

/* tcpdrop_listener_socks_iter runs over every open file of every task (user
 * space runs it when it updates tcpdrop_listeners) and keeps the address of
 * each listening TCP socket by its inode in tcpdrop_listener_socks. */
SEC("iter/task_file")
int tcpdrop_listener_socks_iter(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	if (!file)
		return 0;
	struct inode *inode = file->f_inode;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK)
		return 0;
	struct socket *sock = (struct socket *)file->private_data;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_LISTEN || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	__u64 ino = inode->i_ino;
	__u64 addr = (__u64)sk;
	bpf_map_update_elem(&tcpdrop_listener_socks, &ino, &addr, BPF_ANY);
	return 0;
}
