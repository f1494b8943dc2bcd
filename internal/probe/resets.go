// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// loadObjects loads the object's maps and programs into objs, the reset
// program only when opts.Resets asks for it: a kernel whose verifier
// refused it would then lose only the resets, and without it the drops cost
// and load as they did.
func loadObjects(spec *ebpf.CollectionSpec, opts Options, objs *tcpdropObjects) error {
	if opts.Resets {
		return spec.LoadAndAssign(objs, nil)
	}
	var o struct {
		tcpdropMaps
		tcpdropVariables
		Kfree *ebpf.Program `ebpf:"tcpdrop_kfree"`
		Iter  *ebpf.Program `ebpf:"tcpdrop_listener_socks_iter"`
	}
	if err := spec.LoadAndAssign(&o, nil); err != nil {
		return err
	}
	objs.tcpdropMaps, objs.tcpdropVariables = o.tcpdropMaps, o.tcpdropVariables
	objs.TcpdropKfree, objs.TcpdropListenerSocksIter = o.Kfree, o.Iter
	return nil
}

// attachResets attaches the reset program to tcp/tcp_send_reset when
// Options.Resets asks for it. The tracepoint is on every kernel the program
// loads on (5.8+); what it sees differs (docs/design.md: "Resets,
// retransmissions, failed connects").
func (p *Probe) attachResets(opts Options) error {
	if !opts.Resets {
		return nil
	}
	l, err := link.AttachTracing(link.TracingOptions{Program: p.objs.TcpdropReset})
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return explainLoadError(err)
		}
		return fmt.Errorf("tcp_drop: attaching to the tcp_send_reset tracepoint (tp_btf): %w", err)
	}
	p.resetLink = l
	return nil
}
