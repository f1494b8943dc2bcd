// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"strings"

	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// Drop is one TCP packet the kernel dropped, or a reset it sent (Kind), with
// its owner and the kernel's names for its reason and location. A Drop handed to
// Outputs.Drops, and its Event, are valid until the call returns.
type Drop struct {
	*probe.Event
	Owner    Owner
	Reason   string   // e.g. "NO_SOCKET"; NotAvailable before 5.17 (resets: 6.10)
	Function string   // the function that freed the packet, e.g. "tcp_v4_rcv"
	Location string   // function and offset, e.g. "tcp_v4_rcv+0x91"
	Comm     string   // the name of the task that was on the CPU
	State    string   // the socket's TCP state, e.g. "established"; "" when the packet had no TCP socket
	Stack    []string // with KernelStack: the kernel stack's locations, innermost first, from the drop down
}

// Namer gives drops the kernel's names. It keeps the strings it made for
// repeated values (task names), so it is not safe for concurrent use.
type Namer struct {
	names Names
	comms map[[16]byte]string
	stack []string // the stacks of the drops named since the last Reset
}

// maxCommsCached bounds the task-name cache against churn.
const maxCommsCached = 4096

// NewNamer returns a Namer using names.
func NewNamer(names Names) *Namer {
	return &Namer{names: names, comms: map[[16]byte]string{}}
}

// Drop names ev, which belongs to owner.
func (n *Namer) Drop(ev *probe.Event, owner Owner) Drop {
	d := Drop{
		Event:    ev,
		Owner:    owner,
		Reason:   n.names.Reason(ev.Kind, ev.Reason, ev.HasReason),
		Function: n.names.Function(ev.Location),
		Location: n.names.Location(ev.Location),
		Comm:     n.comm(ev.Comm),
		State:    ev.State.String(),
	}
	if frames := n.dropStack(ev.KernelStack()); len(frames) > 0 {
		start := len(n.stack)
		for _, ip := range frames {
			n.stack = append(n.stack, n.names.Location(ip))
		}
		d.Stack = n.stack[start:len(n.stack):len(n.stack)]
	}
	return d
}

// Reset lets the Namer reuse the memory of the stacks of the drops it named
// so far: they must no longer be used.
func (n *Namer) Reset() {
	clear(n.stack)
	n.stack = n.stack[:0]
}

// dropStack leaves out the frames above the drop: the tcp_drop program
// itself and the tracepoint's dispatch (bpf_prog_<tag>_tcpdrop_kfree,
// bpf_trace_run4, __bpf_trace_kfree_skb, as the kernel names them).
func (n *Namer) dropStack(stack []uint64) []uint64 {
	for len(stack) > 0 {
		fn := n.names.Function(stack[0])
		if !strings.HasPrefix(fn, "bpf_prog_") && !strings.HasPrefix(fn, "bpf_trace_run") && !strings.HasPrefix(fn, "__bpf_trace_") {
			break
		}
		stack = stack[1:]
	}
	return stack
}

// comm returns a task name as a string, made once per name.
func (n *Namer) comm(raw [16]byte) string {
	if s, ok := n.comms[raw]; ok {
		return s
	}
	if len(n.comms) >= maxCommsCached {
		clear(n.comms)
	}
	s := probe.CommString(raw)
	n.comms[raw] = s
	return s
}
