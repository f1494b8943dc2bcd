// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"fmt"

	"github.com/tcpdrop/tcpdrop/internal/listeners"
)

// listening returns the TCP ports with a listener in the calling thread's
// network namespace, IPv4 and IPv6, from sock_diag. A listener on the
// destination port would accept the SYNs; one on a source port would turn
// the RSTs into TCP_RESET drops. Either would break the count.
func listening() (map[uint16]bool, error) {
	ls, err := listeners.Dump(-1) // -1: the calling thread's namespace
	if err != nil {
		return nil, fmt.Errorf("dropgen: %w", err)
	}
	ports := map[uint16]bool{}
	for _, l := range ls {
		ports[l.Addr.Port()] = true
	}
	return ports, nil
}

// sourcePorts lists the source ports to cycle through: 1024-65535 minus the
// destination port and every port with a listener.
func sourcePorts(dport int, busy map[uint16]bool) []uint16 {
	ports := make([]uint16, 0, 65536-1024)
	for p := 1024; p <= 65535; p++ {
		if p != dport && !busy[uint16(p)] {
			ports = append(ports, uint16(p))
		}
	}
	return ports
}
