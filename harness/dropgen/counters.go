package dropgen

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

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
	}
}

// readSnmp6 reads /proc/net/snmp6 of the calling thread's namespace:
// "Name value" lines. The sandbox's Netstat does not read this file.
func readSnmp6() (map[string]uint64, error) {
	data, err := os.ReadFile("/proc/thread-self/net/snmp6")
	if os.IsNotExist(err) {
		return map[string]uint64{}, nil // IPv6 disabled
	}
	if err != nil {
		return nil, fmt.Errorf("dropgen: %w", err)
	}
	return parseSnmp6(data)
}

func parseSnmp6(data []byte) (map[string]uint64, error) {
	m := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("dropgen: snmp6: bad value in %q", sc.Bytes())
		}
		m[string(f[0])] = v
	}
	return m, sc.Err()
}
