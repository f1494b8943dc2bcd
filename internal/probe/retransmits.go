// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// attachRetransmits attaches the retransmission programs, which
// loadObjects loaded, to tcp/tcp_retransmit_skb and
// tcp/tcp_retransmit_synack when Options.Retransmits asks for them. Both
// tracepoints are on every kernel the program loads on (5.8+); what
// tcp_retransmit_skb passes and when it fires differ (docs/design.md:
// "Resets, retransmissions, failed connects"). On an error nothing of
// them stays attached.
func (p *Probe) attachRetransmits(opts Options) error {
	if !opts.Retransmits {
		return nil
	}
	for _, a := range []struct {
		tracepoint string
		prog       *ebpf.Program
	}{
		{"tcp_retransmit_skb", p.objs.TcpdropRetransmit},
		{"tcp_retransmit_synack", p.objs.TcpdropRetransmitSynack},
	} {
		l, err := link.AttachTracing(link.TracingOptions{Program: a.prog})
		if err != nil {
			_ = p.closeRetransmitLinks()
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				return explainLoadError(err)
			}
			return fmt.Errorf("tcp_drop: attaching to the %s tracepoint (tp_btf): %w", a.tracepoint, err)
		}
		p.retransmitLinks = append(p.retransmitLinks, l)
	}
	return nil
}

// closeRetransmitLinks detaches the retransmission programs.
func (p *Probe) closeRetransmitLinks() error {
	var errs []error
	for _, l := range p.retransmitLinks {
		errs = append(errs, l.Close())
	}
	p.retransmitLinks = nil
	return errors.Join(errs...)
}
