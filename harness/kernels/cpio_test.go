// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"strconv"
	"testing"
)

// TestCPIO reads back what cpioWriter wrote, as the kernel would: newc
// headers, names and data each padded to 4 bytes, parents before their
// entries, the trailer last.
func TestCPIO(t *testing.T) {
	var buf bytes.Buffer
	c := newCPIO(&buf)
	c.File("/init", 0o755, []byte("#!/bin/sh\n"))
	c.File("tests/list", 0o644, []byte("a b c\n"))
	c.Symlink("bin/sh", "busybox")
	c.Dir("bin")
	c.CharDevice("dev/console", 5, 1)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		name         string
		mode         uint64
		data         string
		major, minor uint64
	}
	var got []entry
	b := buf.Bytes()
	for off := 0; off < len(b); {
		if string(b[off:off+6]) != "070701" {
			t.Fatalf("offset %d: magic %q", off, b[off:off+6])
		}
		field := func(i int) uint64 {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		mode, size, major, minor, namesize := field(1), int(field(6)), field(9), field(10), int(field(11))
		name := string(b[off+110 : off+110+namesize-1])
		off += (110 + namesize + 3) &^ 3
		got = append(got, entry{name, mode, string(b[off : off+size]), major, minor})
		off += (size + 3) &^ 3
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Errorf("%d bytes after the trailer", len(b)-off)
			}
			break
		}
	}
	want := []entry{
		{"init", 0o100755, "#!/bin/sh\n", 0, 0},
		{"tests", 0o40755, "", 0, 0},
		{"tests/list", 0o100644, "a b c\n", 0, 0},
		{"bin", 0o40755, "", 0, 0},
		{"bin/sh", 0o120777, "busybox", 0, 0},
		{"dev", 0o40755, "", 0, 0},
		{"dev/console", 0o20600, "", 5, 1},
		{"TRAILER!!!", 0, "", 0, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("entries %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
