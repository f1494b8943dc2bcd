package dropgen

import (
	"testing"
)

func TestParseListeners(t *testing.T) {
	tcp := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
`)
	tcp6 := []byte(`  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
`)
	ports := map[uint16]bool{}
	for _, d := range [][]byte{tcp, tcp6} {
		if err := parseListeners(d, ports); err != nil {
			t.Fatal(err)
		}
	}
	if len(ports) != 2 || !ports[22] || !ports[80] {
		t.Fatalf("listeners %v, want 22 and 80 (8080 is established, not listening)", ports)
	}
	if err := parseListeners([]byte("title\n 0: nocolon 0 0A\n"), ports); err == nil {
		t.Fatal("garbage parsed without error")
	}
	if err := parseListeners([]byte("title\n 0: 00:ZZZZ 0 0A\n"), ports); err == nil {
		t.Fatal("bad port parsed without error")
	}
}

func TestSourcePorts(t *testing.T) {
	ports := sourcePorts(2000, map[uint16]bool{1024: true, 65535: true})
	if len(ports) != 65536-1024-3 {
		t.Fatalf("%d ports", len(ports))
	}
	for _, p := range ports {
		if p < 1024 || p == 2000 || p == 1024 || p == 65535 {
			t.Fatalf("port %d should be excluded", p)
		}
	}
}

func TestParseSnmp6(t *testing.T) {
	m, err := parseSnmp6([]byte("Ip6InReceives                   \t42\nIp6OutRequests 7\n\nIcmp6InMsgs 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m["Ip6InReceives"] != 42 || m["Ip6OutRequests"] != 7 || len(m) != 3 {
		t.Fatalf("parsed %v", m)
	}
	if _, err := parseSnmp6([]byte("Ip6InReceives x\n")); err == nil {
		t.Fatal("bad value parsed without error")
	}
}

func TestCountersSub(t *testing.T) {
	a := Counters{TCPInSegs: 10, TCPOutRsts: 5, IP6InReceives: 1}
	b := Counters{TCPInSegs: 4, TCPOutRsts: 6}
	if d := a.Sub(b); d != (Counters{TCPInSegs: 6, IP6InReceives: 1}) {
		t.Fatalf("Sub = %+v", d)
	}
}
