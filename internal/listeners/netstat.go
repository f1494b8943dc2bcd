// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"fmt"
	"strconv"

	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// nsCounters are a network namespace's listen-queue counters from
// /proc/net/netstat. The kernel increments them per namespace, never per
// socket.
type nsCounters struct {
	ListenOverflows uint64 // TcpExt:ListenOverflows: accept queue full (SYN or final ACK refused)
	ListenDrops     uint64 // TcpExt:ListenDrops: every tcp_listendrop(), overflows included
}

// wentBackFrom tells whether a counter is lower than in prev: the kernel
// never lowers them, so these are another namespace's (or theirs restarted).
func (c nsCounters) wentBackFrom(prev nsCounters) bool {
	return c.ListenOverflows < prev.ListenOverflows || c.ListenDrops < prev.ListenDrops
}

// parseNetstat reads TcpExt:ListenOverflows and TcpExt:ListenDrops from the
// text of /proc/net/netstat. It runs once per namespace per Poll, so it
// allocates nothing.
func parseNetstat(b []byte) (nsCounters, error) {
	var c nsCounters
	found := 0
	err := procfs.ParseNetstat(b, func(group, name, value []byte) error {
		if string(group) != "TcpExt" {
			return nil
		}
		var dst *uint64
		switch string(name) { // no allocation: the compiler optimizes the conversion away
		case "ListenOverflows":
			dst = &c.ListenOverflows
		case "ListenDrops":
			dst = &c.ListenDrops
		default:
			return nil
		}
		v, err := strconv.ParseUint(string(value), 10, 64)
		if err != nil {
			return fmt.Errorf("listeners: netstat: TcpExt:%s: %w", name, err)
		}
		*dst = v
		found++
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("listeners: %w", err)
	}
	if found != 2 {
		return c, fmt.Errorf("listeners: netstat: TcpExt:ListenOverflows or ListenDrops missing")
	}
	return c, nil
}
