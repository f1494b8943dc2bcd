// SPDX-License-Identifier: Apache-2.0

// Package listeners watches the listening TCP sockets of every network
// namespace on the host and reports the connections refused because a
// listener's accept queue was full: listen-queue overflows, which the
// kfree_skb tracepoint mostly never sees.
//
// # Where the kernel counts an overflow
//
// When the accept queue of a listener holds more than its backlog, the
// kernel refuses a new connection in one of two places (Linux 6.x):
//
//   - the SYN, in tcp_conn_request: TcpExt:ListenOverflows++, then
//     tcp_listendrop (TcpExt:ListenDrops++, sk_drops++). The SYN is then freed
//     with consume_skb: kfree_skb never sees it. This is the common case on
//     loopback and whenever the queue is full before the SYN arrives.
//   - the ACK that completes a handshake, in tcp_v4/v6_syn_recv_sock (via
//     tcp_check_req): ListenOverflows++ and tcp_listendrop as above, then
//     tcp_v4_rcv/tcp_v6_rcv discards the segment through discard_and_relse,
//     which adds to sk_drops a second time, and kfree_skb sees it with reason
//     TCP_LISTEN_OVERFLOW.
//
// ListenDrops also counts SYNs a listener drops for other reasons (its SYN
// queue full with SYN cookies off, no route back, no memory): ListenDrops >=
// ListenOverflows. And sk_drops also counts whatever else a listener discards
// through discard_and_relse: bare ACKs dropped by TCP_DEFER_ACCEPT, RSTs for
// pending handshakes, socket-filter, XFRM and TCP-MD5/AO rejections, backlog
// overruns.
//
// Measured on 6.18 (TestOverflowExact, TestOverflowACKPath), per namespace,
// IPv4 and IPv6 alike, with a backlog-1 listener that never accepts and 8
// clients:
//
//	SYN path only:       sk_drops 18 = ListenDrops 18 = ListenOverflows 18
//	ACK path (deferred): sk_drops 34 = ListenDrops 22 + kfree_skb TCP_LISTEN_OVERFLOW 10 + TCPDeferAcceptDrop 2,
//	                     ListenDrops 22 = ListenOverflows 22
//
// So a socket's sk_drops is exact for overflows only when they all happen on
// the SYN path and nothing else is dropped; in general it over-counts.
//
// # How a Watcher counts exactly
//
// The namespace's TcpExt:ListenOverflows is the kernel's own count and exact.
// A Watcher reads it (from /proc/thread-self/net/netstat of a thread inside
// the namespace) together with every listener's sk_drops (sock_diag, one
// dump per family), and gives the growth of ListenOverflows to the listeners
// whose sk_drops grew: all of it when only one did, split in proportion to
// their sk_drops growth when several did (then marked Estimated). The sum
// over a namespace is always the kernel's count.
//
// # Which namespaces
//
// Every distinct /proc/<pid>/ns/net (a PollCounters looks only at the
// processes new since the last Poll, the other modes at all of them), every
// bind-mounted one (/run/netns; the mount table is reread when poll(2) says
// it changed), and those only held open by a descriptor (found by a scan of
// /proc/*/fd, run at most once a second and at most 0.1% of the time; in
// between the processes that held one are rescanned, within the same share
// of the time): listeners in containers, `ip netns` namespaces and
// namespaces a runtime holds without entering alike.
// Entering another namespace needs CAP_SYS_ADMIN; without it only the
// Watcher's own namespace is read, and the others are reported as errors.
//
// # What a Poll costs
//
// Each namespace is entered once: its /proc/net/dev, /proc/net/netstat and
// a sock_diag socket are opened from inside it and kept (nsHandle). A Poll
// then reads every namespace's device counters, its netstat only if they
// moved (no packet, no overflow), and dumps its listeners only if the
// overflow counters moved. A dump walks the listening hash of the whole
// host, so dumping every namespace costs N × N: PollEverything, which does,
// runs at the start and at the end. At each collection, for the queue
// gauges, PollRefresh dumps only the namespaces whose listeners may have
// changed since their last dump: devices moved, a queue not empty, sockets
// that started or stopped listening (the kernel's listener table says
// where). On an idle host that is none.
package listeners
