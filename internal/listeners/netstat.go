package listeners

import (
	"bytes"
	"fmt"
	"strconv"
)

// nsCounters are a network namespace's listen-queue counters from
// /proc/net/netstat. The kernel increments them per namespace, never per
// socket.
type nsCounters struct {
	ListenOverflows uint64 // TcpExt:ListenOverflows: accept queue full (SYN or final ACK refused)
	ListenDrops     uint64 // TcpExt:ListenDrops: every tcp_listendrop(), overflows included
}

// parseNetstat reads TcpExt:ListenOverflows and TcpExt:ListenDrops from the
// text of /proc/net/netstat: pairs of lines "TcpExt: Name1 Name2 ..." and
// "TcpExt: v1 v2 ...". It runs once per namespace per Poll, so it walks the
// bytes without allocating.
func parseNetstat(b []byte) (nsCounters, error) {
	var c nsCounters
	prefix := []byte("TcpExt:")
	found := 0
	for len(b) > 0 {
		var header, values []byte
		header, b, _ = bytes.Cut(b, []byte{'\n'})
		if !bytes.HasPrefix(header, prefix) {
			continue
		}
		values, b, _ = bytes.Cut(b, []byte{'\n'})
		if !bytes.HasPrefix(values, prefix) {
			return c, fmt.Errorf("listeners: netstat: TcpExt header without values")
		}
		names, vals := header[len(prefix):], values[len(prefix):]
		for {
			var name, val []byte
			name, names = nextField(names)
			val, vals = nextField(vals)
			if name == nil || val == nil {
				if name != nil || val != nil {
					return c, fmt.Errorf("listeners: netstat: TcpExt names and values differ in number")
				}
				break
			}
			var dst *uint64
			switch string(name) { // no allocation: the compiler optimizes the conversion away
			case "ListenOverflows":
				dst = &c.ListenOverflows
			case "ListenDrops":
				dst = &c.ListenDrops
			default:
				continue
			}
			v, err := strconv.ParseUint(string(val), 10, 64)
			if err != nil {
				return c, fmt.Errorf("listeners: netstat: TcpExt:%s: %w", name, err)
			}
			*dst = v
			found++
		}
	}
	if found != 2 {
		return c, fmt.Errorf("listeners: netstat: TcpExt:ListenOverflows or ListenDrops missing")
	}
	return c, nil
}

// nextField returns the first space-separated field of b and the rest; nil
// when there is none.
func nextField(b []byte) (field, rest []byte) {
	b = bytes.TrimLeft(b, " \t\r")
	if len(b) == 0 {
		return nil, nil
	}
	i := bytes.IndexAny(b, " \t\r")
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i:]
}
