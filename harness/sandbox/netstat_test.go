// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"testing"
)

func TestParseNetstat(t *testing.T) {
	const snmp = `Ip: Forwarding DefaultTTL InReceives
Ip: 1 64 123
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens OutRsts
Tcp: 1 200 120000 -1 18446744073709551615 7

TcpExt: SyncookiesSent ListenOverflows
TcpExt: 0 144
`
	m := map[string]uint64{}
	if err := parseNetstat([]byte(snmp), m); err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{
		"Ip:Forwarding": 1, "Ip:DefaultTTL": 64, "Ip:InReceives": 123,
		"Tcp:RtoAlgorithm": 1, "Tcp:RtoMin": 200, "Tcp:RtoMax": 120000,
		"Tcp:ActiveOpens": 18446744073709551615, "Tcp:OutRsts": 7,
		"TcpExt:SyncookiesSent": 0, "TcpExt:ListenOverflows": 144,
	}
	if len(m) != len(want) {
		t.Errorf("got %d counters, want %d: %v", len(m), len(want), m)
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %d (present %v), want %d", k, got, ok, v)
		}
	}
	if _, ok := m["Tcp:MaxConn"]; ok {
		t.Errorf("negative Tcp:MaxConn should be left out")
	}

	for name, bad := range map[string]string{
		"odd lines":      "Ip: A B\n",
		"group mismatch": "Ip: A B\nTcp: 1 2\n",
		"count mismatch": "Ip: A B\nIp: 1\n",
		"not a number":   "Ip: A\nIp: x\n",
		"no colon":       "Ip A\nIp 1\n",
	} {
		if err := parseNetstat([]byte(bad), map[string]uint64{}); err == nil {
			t.Errorf("%s: no error for %q", name, bad)
		}
	}
}

func TestParseSnmp6(t *testing.T) {
	m := map[string]uint64{}
	if err := parseSnmp6([]byte("Ip6InReceives                   \t42\nIp6OutRequests 7\n\nIcmp6InMsgs 0\n"), m); err != nil {
		t.Fatal(err)
	}
	if m["Ip6InReceives"] != 42 || m["Ip6OutRequests"] != 7 || len(m) != 3 {
		t.Fatalf("parsed %v", m)
	}
	if err := parseSnmp6([]byte("Ip6InReceives x\n"), map[string]uint64{}); err == nil {
		t.Fatal("bad value parsed without error")
	}
}
