// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// attachFailedConnects attaches the failed-connect program to
// sock:inet_sock_set_state when Options.FailedConnects asks for it: a
// connect's socket going from SYN_SENT to CLOSE with an error for its
// application (docs/design.md: "Resets, retransmissions, failed
// connects"). The listen-state program, in its own object, may be attached
// to the same tracepoint: each runs.
func (p *Probe) attachFailedConnects(opts Options) error {
	if !opts.FailedConnects {
		return nil
	}
	l, err := link.AttachTracing(link.TracingOptions{Program: p.objs.TcpdropConnectFailed})
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return explainLoadError(err)
		}
		return fmt.Errorf("tcp_drop: attaching to the inet_sock_set_state tracepoint (tp_btf): %w", err)
	}
	p.connectLink = l
	return nil
}

// ConnectErrorName names the reason of a KindConnectFailed count or event,
// an errno of the running kernel's architecture: "ECONNREFUSED",
// "ETIMEDOUT", "EHOSTUNREACH"... It is the errno's number ("errno 200")
// for one golang.org/x/sys/unix does not name.
func ConnectErrorName(reason uint32) string {
	if name := unix.ErrnoName(syscall.Errno(reason)); name != "" {
		return name
	}
	return fmt.Sprintf("errno %d", reason)
}
