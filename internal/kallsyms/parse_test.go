// SPDX-License-Identifier: Apache-2.0

package kallsyms

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestLoadSkipsMalformedLines(t *testing.T) {
	input := strings.Join([]string{
		"",
		"garbage",
		"ffffffff81000000",
		"ffffffff81000000 T",
		"zzzzffff81000000 T bad_hex",
		"1ffffffff81000000 T seventeen_digits",
		"ffffffff81000000 TT two_letter_type",
		"ffffffff81000000 T " + strings.Repeat("x", maxNameLen+1),
		"ffffffff81000100 T good_one",
		"ffffffff81000200\tt\tgood_two\t[mod]",
		"FFFFFFFF81000300 T upper_hex\r",
		"   ffffffff81000400   W   spaced   ",
		"ffffffff81000500 T no_newline_at_end",
	}, "\n")
	s, err := Load(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sym := range s.syms {
		names = append(names, s.names[sym.off:sym.end])
	}
	want := "good_one good_two upper_hex spaced no_newline_at_end"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("symbols = %q, want %q", got, want)
	}
	if got := s.Location(0xffffffff81000210); got != "good_two+0x10" {
		t.Errorf("Location = %q", got)
	}
}

func TestLoadSkipsOverlongLine(t *testing.T) {
	long := "ffffffff81000000 T " + strings.Repeat("y", 200<<10)
	input := long + "\nffffffff81000100 T after_long\n" + long
	s, err := Load(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.syms) != 1 || s.Function(0xffffffff81000100) != "after_long" {
		t.Errorf("want only after_long, got %d symbols", len(s.syms))
	}
}

func TestLoadErrors(t *testing.T) {
	for name, input := range map[string]string{
		"empty":                  "",
		"garbage":                "hello\nworld\n",
		"only data symbols":      "ffffffff82400000 D __start_rodata\nffffffff82a1c340 d tcp_sk_ops\n",
		"text at zero, data not": "0000000000000000 T _stext\nffffffff82400000 D __start_rodata\n",
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Load(strings.NewReader(input))
			if err == nil {
				t.Errorf("no error; Restricted=%v", s.Restricted())
			}
		})
	}
	readErr := errors.New("disk on fire")
	if _, err := Load(iotest.ErrReader(readErr)); !errors.Is(err, readErr) {
		t.Errorf("read error not returned: %v", err)
	}
	if _, err := LoadFile(t.TempDir() + "/missing"); err == nil {
		t.Error("LoadFile of a missing file: no error")
	}
}

func TestLoadSlowReader(t *testing.T) {
	f, err := os.Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Load(iotest.OneByteReader(f))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Location(tcpV4Rcv + 0x63); got != "tcp_v4_rcv+0x63" {
		t.Errorf("Location = %q", got)
	}
}

// TestProcKallsyms checks the running kernel: tcp_v4_rcv's own address must
// resolve to itself.
func TestProcKallsyms(t *testing.T) {
	const path = "/proc/kallsyms"
	addr, err := findSymbol(path, "tcp_v4_rcv")
	if err != nil {
		t.Skipf("cannot read %s: %v", path, err)
	}
	start := time.Now()
	s, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d text symbols in %v", len(s.syms), time.Since(start))
	if s.Restricted() || addr == 0 {
		t.Skip("kernel addresses are restricted (kptr_restrict)")
	}
	if got := s.Location(addr); got != "tcp_v4_rcv+0x0" {
		t.Errorf("Location(%#x) = %q, want tcp_v4_rcv+0x0", addr, got)
	}
	if got := s.Location(addr + 0x10); got != "tcp_v4_rcv+0x10" {
		t.Errorf("Location(%#x) = %q, want tcp_v4_rcv+0x10", addr+0x10, got)
	}
}

// findSymbol scans a kallsyms file for a core text symbol, independently of
// the parser under test.
func findSymbol(path, name string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[2] == name && strings.ContainsAny(fields[1], "tT") {
			return strconv.ParseUint(fields[0], 16, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, io.ErrUnexpectedEOF
}

func BenchmarkLoadProcKallsyms(b *testing.B) {
	data, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
