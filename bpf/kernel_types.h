/* SPDX-License-Identifier: GPL-2.0 */
/* The few kernel types the tcp_drop programs read, declared for CO-RE.
 *
 * Only the fields used are listed. preserve_access_index makes clang record
 * every access by name, and the loader relocates it against the running
 * kernel's BTF, so field offsets are never baked in. Anonymous unions and
 * structs in the real types are matched by libbpf's name lookup.
 */
#ifndef TCPDROP_KERNEL_TYPES_H
#define TCPDROP_KERNEL_TYPES_H

#include <linux/types.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	char name[16];
	int ifindex;
	possible_net_t nd_net;
};

struct sock;

typedef struct {
	int counter;
} atomic_t;

typedef struct {
	__s64 counter;
} atomic64_t;

struct in6_addr {
	union {
		__u8 u6_addr8[16];
	} in6_u;
};

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num; /* the local port, host order */
	unsigned short skc_family;
	volatile unsigned char skc_state;
	unsigned char skc_ipv6only : 1;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
	possible_net_t skc_net;
	struct sock *skc_listener; /* request socks only: their listener */
	atomic64_t skc_cookie;	   /* the socket cookie; 0 until first asked for */
};

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
};

typedef struct {
	long counter;
} atomic_long_t;

/* A file's reference count since 6.13: negative once the last reference
 * is gone (FILE_REF_DEAD while the file is released). */
typedef struct {
	atomic_long_t refcnt;
} file_ref_t;

struct file {
	struct inode *f_inode;
	void *private_data;    /* a socket's file: its struct socket */
	atomic_long_t f_count; /* before 6.13: 0 once the last reference is gone */
	file_ref_t f_ref;      /* since 6.13 */
};

struct socket {
	struct file *file;
	struct sock *sk;
};

/* A socket and its inode, allocated together (SOCK_INODE). */
struct socket_alloc {
	struct socket socket;
	struct inode vfs_inode;
};

struct sock {
	struct sock_common __sk_common;
	struct socket *sk_socket;
	__u16 sk_type;
	__u16 sk_protocol;
	__u32 sk_ack_backlog;
	__u32 sk_max_ack_backlog;
	atomic_t sk_drops;
};

/* An internet socket: its local port stays set after the port is released
 * (skc_num is 0 by then). */
struct inet_sock {
	struct sock sk;
	__be16 inet_sport;
};

struct sk_buff {
	struct sock *sk;
	struct net_device *dev;
	int skb_iif;
	__be16 protocol;
	__u16 transport_header;
	__u16 network_header;
	unsigned char *head;
	unsigned char *data;
	char cb[48]; /* the protocol's control block: TCP's struct tcp_skb_cb */
};

/* A TCP socket's congestion state and pending timer. icsk_ca_state is a
 * 5-bit bitfield: read with BPF_CORE_READ_BITFIELD_PROBED. */
struct inet_connection_sock {
	__u8 icsk_ca_state;
	__u8 icsk_pending; /* ICSK_TIME_*: the timer armed, or being handled */
};

/* What TCP keeps of a segment it holds (TCP_SKB_CB(skb), in skb->cb). */
struct tcp_skb_cb {
	__u16 tcp_gso_segs; /* tcp_skb_pcount: the segments it is sent as */
	/* The segment's header flags: __u8 in older kernels, __u16 in 6.18
	 * (AccECN's AE above the eight): read by size with
	 * BPF_CORE_READ_BITFIELD. */
	__u16 tcp_flags;
};

/* A connection in its handshake, answered by a listener: a request socket
 * begins with the fields of a socket that it shares (sock_common). */
struct request_sock {
	struct sock_common __req_common;
};

struct task_struct {
	unsigned int flags; /* PF_KTHREAD: a kernel thread */
	int tgid;	    /* the process, in the initial pid namespace */
};

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
};

/* The context of an iterator over every task's open files. */
struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	struct file *file;
};

/* CO-RE matches an enum field only against an enum of the same name; the
 * member is a placeholder, values are read from the kernel's BTF. */
enum skb_drop_reason {
	SKB_DROP_REASON_NOT_SPECIFIED = 2,
};

/* The classic tracepoint's record. Never read here: its fields only tell
 * which arguments the running kernel passes to kfree_skb (reason since 5.17,
 * rx_sk since 6.11). */
struct trace_event_raw_kfree_skb {
	void *rx_sk;
	enum skb_drop_reason reason;
};

/* As skb_drop_reason: a placeholder member, values from the kernel's BTF. */
enum sk_rst_reason {
	SK_RST_REASON_NOT_SPECIFIED = 0,
};

/* The tcp_send_reset tracepoint's record. Never read here: its reason field
 * only tells whether the running kernel passes one (6.10+). */
struct trace_event_raw_tcp_send_reset {
	enum sk_rst_reason reason;
};

/* The tcp_retransmit_skb tracepoint's record. Never read here: its err
 * field only tells whether the running kernel passes the retransmission's
 * result (6.17+), and traces the failed ones too. */
struct trace_event_raw_tcp_retransmit_skb {
	int err;
};

#pragma clang attribute pop

#endif
