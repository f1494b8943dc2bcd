// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"testing"
)

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

func TestCountersSub(t *testing.T) {
	a := Counters{TCPInSegs: 10, TCPOutRsts: 5, IP6InReceives: 1}
	b := Counters{TCPInSegs: 4, TCPOutRsts: 6}
	if d := a.Sub(b); d != (Counters{TCPInSegs: 6, IP6InReceives: 1}) {
		t.Fatalf("Sub = %+v", d)
	}
}
