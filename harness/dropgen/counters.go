// SPDX-License-Identifier: Apache-2.0

package dropgen

// Counters are kernel counters of one network namespace. The Tcp ones are
// shared by IPv4 and IPv6 (/proc/net/snmp); the Ip6 ones come from
// /proc/net/snmp6 and tell the families apart.
type Counters struct {
	TCPInSegs       uint64 `json:"tcp_in_segs"`
	TCPOutSegs      uint64 `json:"tcp_out_segs"`
	TCPOutRsts      uint64 `json:"tcp_out_rsts"`
	TCPInErrs       uint64 `json:"tcp_in_errs"`
	TCPInCsumErrors uint64 `json:"tcp_in_csum_errors"`
	IPInReceives    uint64 `json:"ip_in_receives"`
	IP6InReceives   uint64 `json:"ip6_in_receives"`
}

// Sub returns c - old, counter by counter (a counter that went down, which
// should not happen, gives 0).
func (c Counters) Sub(old Counters) Counters {
	d := func(a, b uint64) uint64 {
		if a < b {
			return 0
		}
		return a - b
	}
	return Counters{
		TCPInSegs:       d(c.TCPInSegs, old.TCPInSegs),
		TCPOutSegs:      d(c.TCPOutSegs, old.TCPOutSegs),
		TCPOutRsts:      d(c.TCPOutRsts, old.TCPOutRsts),
		TCPInErrs:       d(c.TCPInErrs, old.TCPInErrs),
		TCPInCsumErrors: d(c.TCPInCsumErrors, old.TCPInCsumErrors),
		IPInReceives:    d(c.IPInReceives, old.IPInReceives),
		IP6InReceives:   d(c.IP6InReceives, old.IP6InReceives),
	}
}

// fromNetstat picks the counters out of a sandbox Netstat map.
func fromNetstat(m map[string]uint64) Counters {
	return Counters{
		TCPInSegs:       m["Tcp:InSegs"],
		TCPOutSegs:      m["Tcp:OutSegs"],
		TCPOutRsts:      m["Tcp:OutRsts"],
		TCPInErrs:       m["Tcp:InErrs"],
		TCPInCsumErrors: m["Tcp:InCsumErrors"],
		IPInReceives:    m["Ip:InReceives"],
		IP6InReceives:   m["Ip6InReceives"],
	}
}
