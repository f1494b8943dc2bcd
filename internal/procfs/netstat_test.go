// SPDX-License-Identifier: Apache-2.0

package procfs

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// counters collects ParseNetstat's output as "Group:Name" -> value text.
func counters(t *testing.T, b string) (map[string]string, error) {
	t.Helper()
	m := map[string]string{}
	err := ParseNetstat([]byte(b), func(g, n, v []byte) error {
		m[string(g)+":"+string(n)] = string(v)
		return nil
	})
	return m, err
}

func TestParseNetstat(t *testing.T) {
	m, err := counters(t, "Tcp: RtoAlgorithm MaxConn\nTcp: 1 -1\n\nTcpExt: ListenOverflows\r\nTcpExt: 144\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m["Tcp:RtoAlgorithm"] != "1" || m["Tcp:MaxConn"] != "-1" || m["TcpExt:ListenOverflows"] != "144" {
		t.Fatalf("ParseNetstat = %v", m)
	}
	for name, bad := range map[string]string{
		"odd lines":      "Ip: A B\n",
		"group mismatch": "Ip: A B\nTcp: 1 2\n",
		"count mismatch": "Ip: A B\nIp: 1\n",
		"more values":    "Ip: A\nIp: 1 2\n",
		"no colon":       "Ip A\nIp 1\n",
	} {
		if _, err := counters(t, bad); err == nil {
			t.Errorf("%s: no error for %q", name, bad)
		}
	}
	if m, err := counters(t, ""); err != nil || len(m) != 0 {
		t.Errorf("empty: %v, %v", m, err)
	}
	stop := ParseNetstat([]byte("Ip: A B\nIp: 1 2\n"), func(_, _, _ []byte) error { return os.ErrInvalid })
	if !errors.Is(stop, os.ErrInvalid) {
		t.Errorf("fn's error: got %v", stop)
	}
}

func TestParseNetstatAllocs(t *testing.T) {
	b := []byte("TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 1 18 20\nIpExt: InNoRoutes\nIpExt: 0\n")
	var sum int
	n := testing.AllocsPerRun(100, func() {
		_ = ParseNetstat(b, func(_, _, v []byte) error { sum += len(v); return nil })
	})
	if n != 0 {
		t.Errorf("ParseNetstat allocates %v times per file", n)
	}
}

func TestParseSnmp6(t *testing.T) {
	m := map[string]uint64{}
	err := ParseSnmp6([]byte("Ip6InReceives                   \t42\nIp6OutRequests 7\n\nIcmp6InMsgs 0\nthree fields here\n"),
		func(n, v []byte) error {
			x, err := strconv.ParseUint(string(v), 10, 64)
			m[string(n)] = x
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	if m["Ip6InReceives"] != 42 || m["Ip6OutRequests"] != 7 || len(m) != 3 {
		t.Fatalf("parsed %v", m)
	}
}

// TestNetFiles: this thread's namespace's files parse.
func TestNetFiles(t *testing.T) {
	for _, name := range []string{"netstat", "snmp"} {
		b, err := ReadFile(NetFile(name), nil, 256<<10)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := ParseNetstat(b, func(_, _, _ []byte) error { n++; return nil }); err != nil || n < 10 {
			t.Errorf("%s: %d counters, %v", name, n, err)
		}
	}
}

func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	text := strings.Repeat("x", 100)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, buf := range [][]byte{nil, make([]byte, 0, 1), make([]byte, 0, 1000)} {
		if b, err := ReadFile(p, buf, 101); err != nil || string(b) != text {
			t.Errorf("ReadFile with a buffer of %d: %q, %v", cap(buf), b, err)
		}
		if _, err := ReadFile(p, buf, 100); err == nil {
			t.Errorf("ReadFile of 100 bytes with max 100 and a buffer of %d: no error", cap(buf))
		}
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing"), nil, 10); err == nil {
		t.Error("missing file: no error")
	}
}

// TestReadFDRereads: a procfs file kept open reads its current values each
// time (a connect refused on loopback moves Tcp:OutRsts), and all of it,
// also through a buffer smaller than the file.
func TestReadFDRereads(t *testing.T) {
	fd, err := unix.Open("/proc/thread-self/net/snmp", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skip("no /proc/thread-self/net/snmp:", err)
	}
	defer unix.Close(fd)
	a, err := ReadFD(fd, make([]byte, 0, 16), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile("/proc/thread-self/net/snmp")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(whole) {
		t.Fatalf("ReadFD read %d bytes, the file has %d", len(a), len(whole))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Skip("the closed port was taken meanwhile")
	}
	b, err := ReadFD(fd, nil, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Errorf("the second read shows the same counters after a refused connect")
	}
	if _, err := ReadFD(fd, nil, 64); err == nil {
		t.Errorf("ReadFD with max 64 read a file of %d bytes", len(b))
	}
}
