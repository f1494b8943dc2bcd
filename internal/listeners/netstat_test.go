// SPDX-License-Identifier: Apache-2.0

package listeners

import "testing"

func TestParseNetstat(t *testing.T) {
	good := "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPDeferAcceptDrop\n" +
		"TcpExt: 1 18 20 2\n" +
		"IpExt: InNoRoutes\nIpExt: 0\n"
	c, err := parseNetstat([]byte(good))
	if err != nil || c != (nsCounters{ListenOverflows: 18, ListenDrops: 20}) {
		t.Fatalf("parseNetstat = %+v, %v", c, err)
	}
	for name, in := range map[string]string{
		"missing":      "TcpExt: SyncookiesSent\nTcpExt: 1\n",
		"no values":    "TcpExt: ListenOverflows ListenDrops\n",
		"wrong group":  "TcpExt: ListenOverflows ListenDrops\nIpExt: 1 2\n",
		"count":        "TcpExt: ListenOverflows ListenDrops\nTcpExt: 1\n",
		"not a number": "TcpExt: ListenOverflows ListenDrops\nTcpExt: 1 x\n",
		"negative":     "TcpExt: ListenOverflows ListenDrops\nTcpExt: -1 2\n",
		"empty":        "",
		"only IpExt":   "IpExt: InNoRoutes\nIpExt: 0\n",
		"huge":         "TcpExt: ListenOverflows ListenDrops\nTcpExt: 18446744073709551616 1\n",
	} {
		if _, err := parseNetstat([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseNetstat(f *testing.F) {
	f.Add([]byte("TcpExt: ListenOverflows ListenDrops\nTcpExt: 1 2\n"))
	f.Fuzz(func(_ *testing.T, b []byte) {
		_, _ = parseNetstat(b)
	})
}

// TestParseNetstatAllocs: a Poll parses every namespace's netstat; that
// costs no garbage.
func TestParseNetstatAllocs(t *testing.T) {
	b := []byte("TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 1 18 20\nIpExt: InNoRoutes\nIpExt: 0\n")
	if n := testing.AllocsPerRun(100, func() { _, _ = parseNetstat(b) }); n != 0 {
		t.Errorf("parseNetstat allocates %v times", n)
	}
}
