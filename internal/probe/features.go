// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// Features are the arguments the running kernel passes to the kfree_skb
// tracepoint, which decide what the program can report.
type Features struct {
	// Reason: the drop reason (Linux 5.17+). Without it every drop's
	// Event.HasReason is false.
	Reason bool
	// Socket: the socket that dropped the packet, rx_sk (6.11+). Without
	// it a drop has a socket only when the packet was still charged to one
	// (skb->sk): the segments of handshakes in progress have none, and an
	// overflow of their listener's accept queue cannot be recognised (see
	// Options.SkipQueueFullReason).
	Socket bool
}

// KernelFeatures reads the Features of the running kernel from its BTF, as
// the program's loader does.
func KernelFeatures() (Features, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return Features{}, fmt.Errorf("tcp_drop: reading the kernel's BTF: %w", err)
	}
	var rec *btf.Struct
	if err := spec.TypeByName("trace_event_raw_kfree_skb", &rec); err != nil {
		return Features{}, fmt.Errorf("tcp_drop: the kernel's BTF has no kfree_skb tracepoint record: %w", err)
	}
	var f Features
	for _, m := range rec.Members {
		switch m.Name {
		case "reason":
			f.Reason = true
		case "rx_sk":
			f.Socket = true
		}
	}
	return f, nil
}
