// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// maxCounterFile bounds each counter file read (netstat is about 3 KiB).
const maxCounterFile = 1 << 20

// Netstat reads the namespace's counters from /proc/net/netstat, snmp and
// snmp6 of a thread inside it. Keys are "Group:Name" for the first two, e.g.
// "TcpExt:ListenOverflows", "Tcp:OutRsts", "Udp:NoPorts", and snmp6's own
// names, e.g. "Ip6InReceives" (absent when the kernel has no IPv6).
// Negative values (Tcp:MaxConn is -1) are left out.
func (n *Netns) Netstat() (map[string]uint64, error) {
	m := make(map[string]uint64, 512)
	err := n.Do(func() error {
		for _, name := range []string{"netstat", "snmp"} {
			b, err := procfs.ReadFile(procfs.NetFile(name), nil, maxCounterFile)
			if err != nil {
				return fmt.Errorf("sandbox: %w", err)
			}
			if err := parseNetstat(b, m); err != nil {
				return err
			}
		}
		b, err := procfs.ReadFile(procfs.NetFile("snmp6"), nil, maxCounterFile)
		if errors.Is(err, os.ErrNotExist) {
			return nil // no IPv6
		}
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		return parseSnmp6(b, m)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// parseNetstat adds the counters of a /proc/net/{netstat,snmp} file to m,
// as "Group:Name".
func parseNetstat(b []byte, m map[string]uint64) error {
	err := procfs.ParseNetstat(b, func(group, name, value []byte) error {
		v, err := strconv.ParseUint(string(value), 10, 64)
		if err != nil {
			if _, ierr := strconv.ParseInt(string(value), 10, 64); ierr == nil {
				return nil // negative, e.g. Tcp:MaxConn -1
			}
			return fmt.Errorf("%s:%s: %w", group, name, err)
		}
		m[string(group)+":"+string(name)] = v
		return nil
	})
	if err != nil {
		return fmt.Errorf("sandbox: netstat: %w", err)
	}
	return nil
}

// parseSnmp6 adds the counters of a /proc/net/snmp6 file to m, by their
// own names.
func parseSnmp6(b []byte, m map[string]uint64) error {
	return procfs.ParseSnmp6(b, func(name, value []byte) error {
		v, err := strconv.ParseUint(string(value), 10, 64)
		if err != nil {
			return fmt.Errorf("sandbox: snmp6: %s: %w", name, err)
		}
		m[string(name)] = v
		return nil
	})
}
