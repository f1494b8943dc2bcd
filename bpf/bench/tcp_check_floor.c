// SPDX-License-Identifier: GPL-2.0
/* A benchmark's yardstick, not part of the monitor: the least work any
 * monitor of TCP drops on kfree_skb must do per freed packet, which is to
 * find out whether it is TCP. The tracepoint's protocol is only the
 * ethertype, so that takes one read of the packet's IP header; this
 * program reads just the 10 bytes that hold the IPv4 protocol or the IPv6
 * next header, and returns. BenchmarkFlood measures a flood with it
 * attached, to show how much of the flood's rate is left for everything
 * else: counting, events. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "../kernel_consts.h"
#include "../kernel_types.h"

char LICENSE[] SEC("license") = "GPL";

/* Whether it saw TCP packets, so the benchmark can tell it ran. A plain
 * increment: an atomic one would add its own cost to the yardstick, and an
 * increment lost between CPUs does not matter here. */
__u64 tcp_packets = 0;

SEC("tp_btf/kfree_skb")
int tcp_check_floor(__u64 *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx[0];
	__be16 proto = skb->protocol;
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return 0;
	__u16 nh = skb->network_header;
	if (nh == NO_HEADER)
		return 0;
	__u8 ip[10]; /* IPv4: protocol at 9; IPv6: next header at 6 */
	if (bpf_probe_read_kernel(ip, sizeof(ip), skb->head + nh))
		return 0;
	__u8 l4 = proto == bpf_htons(ETH_P_IP) ? ip[9] : ip[6];
	if (l4 == IPPROTO_TCP)
		tcp_packets++;
	return 0;
}
