// SPDX-License-Identifier: Apache-2.0

package kallsyms

import (
	"strings"
	"sync"
	"testing"
)

const (
	fixture           = "../../testdata/kallsyms.txt"
	restrictedFixture = "../../testdata/kallsyms_restricted.txt"
)

// Addresses from the fixture.
const (
	stext         = 0xffffffff81000000
	idleDead      = 0xffffffff810f2a30
	nfHookSlow    = 0xffffffff81ab3e30
	pfxTCPv4Rcv   = 0xffffffff81b2f9b0
	tcpV4Rcv      = 0xffffffff81b2f9c0
	returnThunk   = 0xffffffff81c01a80
	etext         = 0xffffffff8220bb08
	startRodata   = 0xffffffff82400000
	iptDoTable    = 0xffffffffc0800010
	iptTables     = 0xffffffffc0800a40
	nftDoChain    = 0xffffffffc0a01010
	nftChainIPv4  = 0xffffffffc0a05200
	ftraceTramp   = 0xffffffffc0c01000
	cpuDebugStore = 0x1000
)

func loadFixture(t testing.TB) *Symbolizer {
	t.Helper()
	s, err := LoadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if s.Restricted() {
		t.Fatal("fixture is Restricted")
	}
	return s
}

func TestResolve(t *testing.T) {
	s := loadFixture(t)
	for _, tc := range []struct {
		name     string
		addr     uint64
		function string
		offset   uint64
		ok       bool
	}{
		{"function start", tcpV4Rcv, "tcp_v4_rcv", 0, true},
		{"inside function", tcpV4Rcv + 0x63, "tcp_v4_rcv", 0x63, true},
		{"padding before function", pfxTCPv4Rcv + 0x8, "__pfx_tcp_v4_rcv", 0x8, true},
		{"last byte before next symbol", tcpV4Rcv - 1, "__pfx_tcp_v4_rcv", 0xf, true},
		{"alias: first in file wins", stext, "_stext", 0, true},
		{"weak W", idleDead + 4, "arch_cpu_idle_dead", 4, true},
		{"weak w", returnThunk, "__x86_return_thunk", 0, true},
		{"module listed after higher module", iptDoTable + 0x1f4, "ipt_do_table", 0x1f4, true},
		{"module data symbol is not a boundary", iptTables, "ipt_do_table", iptTables - iptDoTable, true},
		{"core data symbol is not a boundary", startRodata, "_etext", startRodata - etext, true},
		{"module function", nftDoChain + 0x1a, "nft_do_chain", 0x1a, true},
		{"module data symbol itself", nftChainIPv4, "nft_do_chain", nftChainIPv4 - nftDoChain, true},
		{"last symbol start", ftraceTramp, "ftrace_trampoline", 0, true},
		{"past the last symbol", ftraceTramp + 1, "", 0, false},
		{"before the first symbol", stext - 1, "", 0, false},
		{"absolute symbol", cpuDebugStore, "", 0, false},
		{"zero", 0, "", 0, false},
		{"max", ^uint64(0), "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			function, offset, ok := s.Resolve(tc.addr)
			if function != tc.function || offset != tc.offset || ok != tc.ok {
				t.Errorf("Resolve(%#x) = %q, %#x, %v; want %q, %#x, %v",
					tc.addr, function, offset, ok, tc.function, tc.offset, tc.ok)
			}
		})
	}
}

func TestLocation(t *testing.T) {
	s := loadFixture(t)
	for _, tc := range []struct {
		addr     uint64
		location string
		function string
	}{
		{tcpV4Rcv + 0x63, "tcp_v4_rcv+0x63", "tcp_v4_rcv"},
		{tcpV4Rcv, "tcp_v4_rcv+0x0", "tcp_v4_rcv"},
		{nfHookSlow + 0x12a, "nf_hook_slow+0x12a", "nf_hook_slow"},
		{nftDoChain + 0x2c4, "nft_do_chain+0x2c4", "nft_do_chain"},
		{iptDoTable + 0x1f4, "ipt_do_table+0x1f4", "ipt_do_table"},
		{stext - 1, "0xffffffff80ffffff", "0xffffffff80ffffff"},
		{ftraceTramp + 0x10, "0xffffffffc0c01010", "0xffffffffc0c01010"},
		{0, "0x0", "0x0"},
	} {
		// Twice: the second answer comes from the cache.
		for range 2 {
			if got := s.Location(tc.addr); got != tc.location {
				t.Errorf("Location(%#x) = %q, want %q", tc.addr, got, tc.location)
			}
		}
		if got := s.Function(tc.addr); got != tc.function {
			t.Errorf("Function(%#x) = %q, want %q", tc.addr, got, tc.function)
		}
	}
	for _, sym := range s.syms {
		name := s.names[sym.off:sym.end]
		if strings.ContainsAny(name, "[]\t ") {
			t.Errorf("symbol name %q kept a module suffix or blank", name)
		}
		switch name {
		case "__start_rodata", "tcp_sk_ops", "tcp_hashinfo", "nft_chain_filter_ipv4",
			"nf_tables_net_id", "ipt_builtin_tables", "fixed_percpu_data", "cpu_debug_store", "_text":
			t.Errorf("symbol %q should have been skipped", name)
		}
	}
}

func TestRestricted(t *testing.T) {
	s, err := LoadFile(restrictedFixture)
	if err != nil {
		t.Fatalf("a restricted kallsyms is not an error: %v", err)
	}
	if !s.Restricted() {
		t.Fatal("Restricted() = false for all-zero addresses")
	}
	for _, addr := range []uint64{0, tcpV4Rcv + 0x63} {
		if _, _, ok := s.Resolve(addr); ok {
			t.Errorf("Resolve(%#x) succeeded on a restricted table", addr)
		}
	}
	if got, want := s.Location(tcpV4Rcv+0x63), "0xffffffff81b2fa23"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	var warnings []string
	for range 3 {
		if !s.WarnIfRestricted(func(msg string) { warnings = append(warnings, msg) }) {
			t.Error("WarnIfRestricted reported false")
		}
	}
	if len(warnings) != 1 || warnings[0] != RestrictedWarning {
		t.Errorf("warnings = %q, want RestrictedWarning exactly once", warnings)
	}

	open := loadFixture(t)
	if open.WarnIfRestricted(func(string) { t.Error("warned about an unrestricted table") }) {
		t.Error("WarnIfRestricted reported true")
	}
}

func TestNilAndZero(t *testing.T) {
	for _, s := range []*Symbolizer{nil, {}} {
		if s.Restricted() || s.WarnIfRestricted(nil) {
			t.Error("nil/zero Symbolizer is Restricted")
		}
		if _, _, ok := s.Resolve(tcpV4Rcv); ok {
			t.Error("nil/zero Symbolizer resolved")
		}
		if got := s.Location(tcpV4Rcv); got != "0xffffffff81b2f9c0" {
			t.Errorf("Location = %q", got)
		}
		if got := s.Function(tcpV4Rcv); got != "0xffffffff81b2f9c0" {
			t.Errorf("Function = %q", got)
		}
	}
}

func TestCacheIsBounded(t *testing.T) {
	s := loadFixture(t)
	// Every address inside a huge "function" resolves, so each is cached.
	for i := range uint64(3 * maxCached) {
		s.Location(etext + i)
	}
	if n := s.cache.len(); n > maxCached {
		t.Errorf("cache holds %d entries, cap is %d", n, maxCached)
	}
	if got := s.Location(tcpV4Rcv + 0x63); got != "tcp_v4_rcv+0x63" {
		t.Errorf("Location after churn = %q", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := loadFixture(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range uint64(2000) {
				addr := tcpV4Rcv + (i+uint64(g))%0x200
				if got := s.Location(addr); !strings.HasPrefix(got, "tcp_v4_rcv+0x") {
					t.Errorf("Location(%#x) = %q", addr, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkLocation(b *testing.B) {
	s := loadFixture(b)
	addr := uint64(tcpV4Rcv + 0x63)
	s.Location(addr) // warm the cache
	b.ReportAllocs()
	for b.Loop() {
		if s.Location(addr) != "tcp_v4_rcv+0x63" {
			b.Fatal("wrong location")
		}
	}
}

func BenchmarkLocationParallel(b *testing.B) {
	s := loadFixture(b)
	addr := uint64(tcpV4Rcv + 0x63)
	s.Location(addr)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Location(addr)
		}
	})
}
