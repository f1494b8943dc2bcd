// SPDX-License-Identifier: Apache-2.0

package probe

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
)

var kindNames = [...]string{KindDrop: "drop", KindReset: "reset"}

// String returns "drop" or "reset", "" for a kind this code does not know.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return ""
}
