/* SPDX-License-Identifier: GPL-2.0 */
/* Part of tcpdrop.c: telling a freed TCP packet from the rest, and reading
 * its addresses, ports and flags from its headers. */
#ifndef TCPDROP_PACKET_H
#define TCPDROP_PACKET_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "../kernel_consts.h"
#include "../kernel_types.h"

#define IP_OFFSET_MASK 0x1fff
/* struct tcp_packet's family, and the IP header's version */
#define FAMILY_IPV4 4
#define FAMILY_IPV6 6

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

/* v4mapped tells an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
static __always_inline int v4mapped(__u8 *a)
{
	return *(__u64 *)&a[0] == 0 && *(__u32 *)&a[8] == bpf_htonl(0xffff);
}

/* sock_addresses fills pkt's family and addresses with those of a
 * connection's socket (or request socket) c, this host's as the source,
 * as a packet it sends has them. A dual-stack socket talking to an IPv4
 * peer sends IPv4. */
static __always_inline void sock_addresses(struct sock_common *c, struct tcp_packet *pkt)
{
	__u8 *daddr = c->skc_v6_daddr.in6_u.u6_addr8;
	if (c->skc_family == AF_INET6 && !v4mapped(daddr)) {
		__u8 *saddr = c->skc_v6_rcv_saddr.in6_u.u6_addr8;
		pkt->family = FAMILY_IPV6;
		/* 8-byte loads: direct BTF access allows no wider ones. */
		*(__u64 *)&pkt->saddr[0] = *(__u64 *)&saddr[0];
		*(__u64 *)&pkt->saddr[8] = *(__u64 *)&saddr[8];
		*(__u64 *)&pkt->daddr[0] = *(__u64 *)&daddr[0];
		*(__u64 *)&pkt->daddr[8] = *(__u64 *)&daddr[8];
		return;
	}
	pkt->family = FAMILY_IPV4;
	*(__be32 *)pkt->saddr = c->skc_rcv_saddr;
	*(__be32 *)pkt->daddr = c->skc_daddr;
}

#endif
