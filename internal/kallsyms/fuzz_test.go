// SPDX-License-Identifier: Apache-2.0

package kallsyms

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

func FuzzLoad(f *testing.F) {
	for _, path := range []string{fixture, restrictedFixture} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("ffffffff81000000 T a\nffffffff81000000 t b\n0 A c\n"))
	f.Add([]byte("ffffffffffffffff T top\n1 T bottom\n"))
	f.Add([]byte("\t\t\n \n T \n0000 W w [m]\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Load(bytes.NewReader(data))
		if err != nil {
			if s != nil {
				t.Fatal("Load returned a Symbolizer with an error")
			}
			return
		}
		if s.Restricted() && len(s.syms) != 0 {
			t.Fatal("Restricted Symbolizer holds symbols")
		}
		for i, sym := range s.syms {
			if i > 0 && s.syms[i-1].addr >= sym.addr {
				t.Fatal("symbols not strictly sorted")
			}
			name, off, ok := s.Resolve(sym.addr)
			if !ok || off != 0 || name != s.names[sym.off:sym.end] || name == "" {
				t.Fatalf("symbol %#x resolves to %q+%#x, %v", sym.addr, name, off, ok)
			}
		}
		// Probe addresses made of the input itself, and the extremes.
		probes := []uint64{0, 1, ^uint64(0)}
		for i := 0; i+8 <= len(data) && i < 256; i += 8 {
			probes = append(probes, binary.LittleEndian.Uint64(data[i:]))
		}
		for _, addr := range probes {
			if s.Location(addr) == "" || s.Function(addr) == "" {
				t.Fatalf("empty answer for %#x", addr)
			}
			if name, off, ok := s.Resolve(addr); ok && (name == "" || off > addr) {
				t.Fatalf("Resolve(%#x) = %q, %#x", addr, name, off)
			}
		}
	})
}
