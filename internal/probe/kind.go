// SPDX-License-Identifier: Apache-2.0

package probe

import "fmt"

// Kind is what a count or an event is of: the COUNT_KIND_* of
// bpf/tcpdrop.h, which the kernel program writes in count_key.kind and
// drop_event.kind.
type Kind uint8

const (
	// KindDrop is a packet the kernel freed (kfree_skb). Reason is an enum
	// skb_drop_reason value (dropreason.Table).
	KindDrop Kind = 0
	// KindReset is a RST this host sent (tcp/tcp_send_reset): Reason is an
	// enum sk_rst_reason value (dropreason.ResetsFromKernel), HasReason false on
	// kernels before 6.10, which pass none. Location is 0; Src is this
	// host's end, TCPFlags the reset's (RST, with ACK where the kernel adds
	// one).
	KindReset Kind = 1
	// KindRetransmit is a segment this host sent again
	// (tcp/tcp_retransmit_skb, tcp/tcp_retransmit_synack): Reason is a
	// RetransmitReason, HasReason true. A count's Packets are segments, as
	// Tcp:RetransSegs counts them (an event may stand for several).
	// Location is 0; Src is this host's end, TCPFlags the segment's.
	KindRetransmit Kind = 2
	// KindConnectFailed is a connect this host made that ended in an error
	// (its socket went from SYN_SENT to CLOSE with one): Reason is the
	// errno its application is told (ConnectErrorName), HasReason true.
	// Location is 0; Src is this host's end, Dst the peer it connected to,
	// State SYN_SENT, TCPFlags 0 (no packet was dropped).
	KindConnectFailed Kind = 3
)

var kindNames = [...]string{KindDrop: "drop", KindReset: "reset", KindRetransmit: "retransmit", KindConnectFailed: "connect_failed"}

// String returns the kind's name ("drop", "reset", "retransmit",
// "connect_failed"), "" for a kind this code does not know.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return ""
}

// OwnReasonName names the reason raw of a count or event of kind k when
// this program, not the kernel's BTF, gives it its meaning: a
// retransmission's (RetransmitReason) and a failed connect's
// (ConnectErrorName). ok is false for a drop's or a reset's reason, which
// the running kernel's enums name (dropreason).
func (k Kind) OwnReasonName(raw uint32) (name string, ok bool) {
	switch k {
	case KindRetransmit:
		if name := RetransmitReason(raw).String(); name != "" {
			return name, true
		}
		return fmt.Sprintf("retransmit %d", raw), true
	case KindConnectFailed:
		return ConnectErrorName(raw), true
	}
	return "", false
}

// RetransmitReason is which retransmission a KindRetransmit is: its
// Reason, enum retransmit_reason of bpf/tcpdrop.h.
type RetransmitReason uint32

const (
	// RetransmitData is data (or a FIN) of a connection sent again.
	RetransmitData RetransmitReason = 1
	// RetransmitSYN is a connect's SYN sent again.
	RetransmitSYN RetransmitReason = 2
	// RetransmitSYNACK is a listener's SYN-ACK sent again; its socket is
	// the listener.
	RetransmitSYNACK RetransmitReason = 3
	// RetransmitLossProbe is a tail loss probe that sent the last segment
	// again (TcpExt:TCPLossProbes counts these and the probes that sent
	// new data).
	RetransmitLossProbe RetransmitReason = 4
)

var retransmitNames = [...]string{RetransmitData: "DATA", RetransmitSYN: "SYN",
	RetransmitSYNACK: "SYN_ACK", RetransmitLossProbe: "LOSS_PROBE"}

// String returns the reason's name (DATA, SYN, SYN_ACK, LOSS_PROBE), ""
// for one this code does not know.
func (r RetransmitReason) String() string {
	if int(r) < len(retransmitNames) {
		return retransmitNames[r]
	}
	return ""
}
