// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

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
