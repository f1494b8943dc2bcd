// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// ListenOverflowReason is the reason of listen-queue overflows: the
// kernel's own name for them (enum skb_drop_reason).
const ListenOverflowReason = "TCP_LISTEN_OVERFLOW"

// setReasonPolicy tells the kernel program which drops it leaves to the
// listen-queue watcher, when the watcher runs (watching): the watcher counts
// every overflow from the kernel's own counter while kfree_skb sees only some
// (see internal/listeners): not twice. Kernels with TCP_LISTEN_OVERFLOW
// (6.16+) name those kfree_skb sees; older ones free them as NOT_SPECIFIED,
// and the program recognises them by their listener's full accept queue
// (probe.Options.SkipQueueFull). reasons may be nil (no BTF): then nothing
// is set.
func setReasonPolicy(opts *probe.Options, reasons *dropreason.Table, watching bool) {
	if !watching || reasons == nil {
		return
	}
	if v, ok := reasons.Value(ListenOverflowReason); ok {
		opts.SkipReason = v
	} else {
		opts.SkipQueueFull = true
	}
}
