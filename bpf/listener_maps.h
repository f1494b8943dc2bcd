/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's listener tables, shared by the tcp_drop program (which
 * reads them), user space (which reconciles them at every poll) and the
 * listen-state program (which updates them when a socket starts or stops
 * listening). One definition, included by both programs; the loader gives
 * the listen-state program the tcp_drop program's maps. */
#ifndef TCPDROP_LISTENER_MAPS_H
#define TCPDROP_LISTENER_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "tcpdrop.h"

/* The listening sockets of every network namespace, by address and port,
 * as user space last found them or the listen-state program saw them start:
 * the owner of a packet dropped before it met its socket (a firewall rule on
 * a server's port) is the listener it was going to. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized by the loader */
	__type(key, struct listener_key);
	__type(value, __u64); /* socket inode */
} tcpdrop_listeners SEC(".maps");

/* The kernel's listening sockets by socket inode (the values of
 * tcpdrop_listeners), found by tcpdrop_listener_socks_iter and the
 * listen-state program: on kernels that
 * pass kfree_skb no socket (before 6.11), where a listener is found for a
 * dropped segment of a handshake. Addresses, read only with helpers. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized by the loader */
	__type(key, __u64);	    /* socket inode */
	__type(value, __u64);	    /* struct sock address */
} tcpdrop_listener_socks SEC(".maps");

/* Every TCP connection, by namespace, local and remote address and port, as
 * the listen-state program saw it become established, until it stops being
 * established: the owner of a packet of an established connection dropped
 * before it met its socket (a firewall rule on loopback, where no early
 * demultiplexing attaches the socket). The oldest are forgotten first. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536); /* resized by the loader */
	__type(key, struct conn_key);
	__type(value, __u64); /* struct sock address */
} tcpdrop_conns SEC(".maps");

#endif
