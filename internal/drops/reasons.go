//go:build linux

package drops

import (
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// ListenOverflowReason is the reason of listen-queue overflows: the
// kernel's own name for them (enum skb_drop_reason).
const ListenOverflowReason = "TCP_LISTEN_OVERFLOW"

// noSocketReason is the reason of packets the kernel looked up a socket for
// and found none: never attributed to a listener from the table.
const noSocketReason = "NO_SOCKET"

// setReasonPolicy tells the kernel program which reasons it treats apart,
// when the listen-queue watcher runs (watching): it leaves
// TCP_LISTEN_OVERFLOW to the watcher, which counts every overflow from the
// kernel's own counter while kfree_skb sees only some (see
// internal/listeners): not twice; and it never matches a NO_SOCKET packet
// with a listener. reasons may be nil (no BTF): then nothing is set.
func setReasonPolicy(opts *probe.Options, reasons *dropreason.Table, watching bool) {
	if !watching {
		return
	}
	opts.SkipReason, _ = reasons.Value(ListenOverflowReason)
	opts.NoSocketReason, _ = reasons.Value(noSocketReason)
}
