/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's constants the programs use: macros and enum values of its
 * headers, which the kernel's BTF does not carry (and the UAPI headers
 * would bring in with much else). Stable ABI values, defined once here. */
#ifndef TCPDROP_KERNEL_CONSTS_H
#define TCPDROP_KERNEL_CONSTS_H

/* Ethertypes (skb->protocol, network order on the wire) */
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* IP protocols and IPv6 extension headers */
#define IPPROTO_HOPOPTS 0
#define IPPROTO_TCP 6
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_AH 51
#define IPPROTO_DSTOPTS 60
#define IPPROTO_MPTCP 262

/* Address families (sock_common.skc_family) */
#define AF_INET 2
#define AF_INET6 10

/* Socket types (sock.sk_type) */
#define SOCK_STREAM 1

/* The socket states (include/net/tcp_states.h) */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_TIME_WAIT 6
#define TCP_CLOSE 7
#define TCP_LISTEN 10
#define TCP_NEW_SYN_RECV 12

/* TCP congestion states (icsk_ca_state, enum tcp_ca_state) */
#define TCP_CA_RECOVERY 3

/* The TCP timer armed on a socket (icsk_pending, ICSK_TIME_*) */
#define ICSK_TIME_LOSS_PROBE 5

/* TCP header flags */
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

/* An unset header offset of an sk_buff (skb->network_header) */
#define NO_HEADER ((__u16)~0U)

/* File types (inode.i_mode) */
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* Task flags (task_struct.flags) */
#define PF_KTHREAD 0x00200000

/* Errors (errno values, returned negated) */
#define EAGAIN 11
#define ENOMEM 12
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define EHOSTUNREACH 113
#define NSEC_PER_SEC 1000000000ULL

#endif
