/* SPDX-License-Identifier: GPL-2.0 */
/* Records shared between the tcp_drop kernel program and its Go reader.
 * bpf2go mirrors these structs in Go; the decoder (internal/probe/decode.go)
 * takes its field offsets from that mirror. */
#ifndef TCPDROP_H
#define TCPDROP_H

#include <linux/types.h>

/* What a count or an event is of (count_key.kind, drop_event.kind). */
#define COUNT_KIND_DROP 0  /* a packet kfree_skb freed */
#define COUNT_KIND_RESET 1 /* a RST this host sent (tcp_send_reset) */
/* a segment this host sent again (tcp_retransmit_skb, tcp_retransmit_synack) */
#define COUNT_KIND_RETRANSMIT 2

/* Which retransmission a COUNT_KIND_RETRANSMIT is (its count_key.reason;
 * internal/probe/kind.go mirrors it). */
enum retransmit_reason {
	RETRANSMIT_DATA = 1,	   /* data (or a FIN) of a connection */
	RETRANSMIT_SYN = 2,	   /* a connect's SYN */
	RETRANSMIT_SYN_ACK = 3,	   /* a listener's SYN-ACK */
	RETRANSMIT_LOSS_PROBE = 4, /* a tail loss probe resending the last segment */
};
/* A connect that ended in an error (tcpdrop/connect.h); its reason is the errno. */
#define COUNT_KIND_CONNECT_FAILED 3

/* Key of the exact per-CPU counts: what the metrics and the owner need,
 * nothing of the task that happened to be on the CPU (events carry that),
 * so that the keys live at once stay few. */
struct count_key {
	__u64 location;
	__u64 sock_ino; /* inode of the owning socket's file; 0 when none */
	__u32 reason;	/* enum skb_drop_reason; for a reset, enum sk_rst_reason;
			 * for a retransmission, enum retransmit_reason; a
			 * failed connect's errno */
	__u8 has_reason;
	__u8 state; /* the socket's TCP state (TCP_ESTABLISHED...); 0 when no TCP socket */
	/* 1: the log filters keep these drops from the ring. Counted here, in
	 * the same increment, so that an excluded drop costs only its count;
	 * a reason filter, a function of the key, adds no key. */
	__u8 filtered;
	__u8 kind; /* COUNT_KIND_*: in the last byte, so the key stays 24 bytes */
};

/* A count kept in a per-CPU slot instead of the count map (tcpdrop/counts.h:
 * count_slots); packets 0: the slot is free. */
struct count_slot {
	struct count_key key;
	__u64 packets;
};

/* A listening socket: its network namespace's inode, port and the address
 * it is bound to (IPv4 in the first 4 bytes; all zeros: any address of its
 * family). */
struct listener_key {
	__u32 netns;
	__u16 port;
	__u8 family; /* 4 or 6 */
	__u8 pad;
	__u8 addr[16];
};

/* A TCP connection: its network namespace's inode, its local and remote
 * ports (host order) and addresses (IPv4 in the first 4 bytes; an
 * IPv4-mapped IPv6 address as IPv4). */
struct conn_key {
	__u32 netns;
	__u16 lport, rport;
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u8 laddr[16], raddr[16];
};

/* Losses the program knows of, per CPU. */
struct probe_stats {
	/* In packets, as counted (a retransmission's segments): */
	__u64 lost;	 /* those of events the ring buffer had no room for */
	__u64 uncounted; /* those the full counter map could not hold */
	__u64 shed;	 /* those of events not sent because of max_events_per_sec */
};

/* The current one-second window of the event rate limit. */
struct event_window {
	__u64 start_ns;
	__u64 events;
};

/* One TCP drop, reset or retransmission (kind), sent through the ring buffer. */
struct drop_event {
	__u64 time_ns;	/* CLOCK_MONOTONIC */
	__u64 location; /* address that freed the packet */
	__u64 sock_ino; /* inode of the owning socket's file (see socket_inode); 0 when none */
	__u32 tgid, tid;
	__u32 reason;
	__u32 netns;
	__u32 ifindex;
	__u16 sport, dport;
	__u8 saddr[16], daddr[16]; /* IPv4 in the first 4 bytes */
	__u8 family;		   /* 4 or 6 */
	__u8 tcp_flags;
	__u8 has_reason;
	__u8 state; /* as in struct count_key */
	char comm[16];
	char ifname[16];
	__u8 kind;    /* as in struct count_key */
	__u8 pad_end; /* named, so that it is zeroed like every other byte */
	/* How many of its count's packets the event stands for: 1 for a drop,
	 * a reset or a failed connect; a retransmission's segments within the
	 * count key's record budget (record.h), the rest being repeats. */
	__u16 packets;
};

/* A drop event with the kernel stack that dropped the packet, sent instead
 * of a plain one when the loader asks for stacks. */
#define MAX_STACK_DEPTH 32
struct drop_event_stack {
	struct drop_event ev;
	__s64 stack_bytes; /* bpf_get_stack's result: bytes written, or an error */
	__u64 stack[MAX_STACK_DEPTH];
};

#endif
