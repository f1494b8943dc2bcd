// SPDX-License-Identifier: Apache-2.0

package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// NetFile is the path of a file of /proc/net as the calling thread sees
// it: the counters of the thread's network namespace, which may not be the
// thread-group leader's (/proc/self/net).
func NetFile(name string) string { return "/proc/thread-self/net/" + name }

// ReadFile reads a whole file into buf (grown as needed, nil to allocate)
// and fails if it reaches limit bytes: procfs files have no size to stat,
// and a broken one must not fill memory.
func ReadFile(path string, buf []byte, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := buf[:0]
	for {
		if len(b) >= limit {
			return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow
		}
		n, err := f.Read(b[len(b):min(cap(b), limit)])
		b = b[:len(b)+n]
		if err == io.EOF || (err == nil && n == 0) {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// ReadFD reads an open procfs file again from its start, into buf (grown
// as needed), with pread: a file kept open reads fresh values each time,
// without a path lookup. It fails if the file reaches limit bytes.
func ReadFD(fd int, buf []byte, limit int) ([]byte, error) {
	b := buf[:0]
	for {
		if len(b) >= limit {
			return nil, fmt.Errorf("procfs: file of fd %d larger than %d bytes", fd, limit)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow
		}
		n, err := unix.Pread(fd, b[len(b):min(cap(b), limit)], int64(len(b)))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
}

// ParseNetstat calls fn for each counter of a /proc/net/netstat or
// /proc/net/snmp file: pairs of lines "Group: Name1 Name2 ..." and
// "Group: value1 value2 ...", blank lines between them. The values are
// passed as text: some are negative (Tcp:MaxConn is -1), and what to do
// with those is the caller's. It does not allocate; the slices fn gets are
// only valid during the call. A malformed pair is an error.
func ParseNetstat(b []byte, fn func(group, name, value []byte) error) error {
	for len(b) > 0 {
		var header, values []byte
		header, b, _ = bytes.Cut(b, []byte{'\n'})
		if len(bytes.TrimSpace(header)) == 0 {
			continue
		}
		hg, names, ok := bytes.Cut(header, []byte{':'})
		if !ok {
			return fmt.Errorf("netstat: line %q has no group", firstField(header))
		}
		if len(b) == 0 {
			return fmt.Errorf("netstat: %s header without values", hg)
		}
		values, b, _ = bytes.Cut(b, []byte{'\n'})
		vg, vals, ok := bytes.Cut(values, []byte{':'})
		if !ok || !bytes.Equal(hg, vg) {
			return fmt.Errorf("netstat: %s header followed by %q", hg, firstField(values))
		}
		for {
			var name, val []byte
			name, names = nextField(names)
			val, vals = nextField(vals)
			if name == nil || val == nil {
				if name != nil || val != nil {
					return fmt.Errorf("netstat: %s names and values differ in number", hg)
				}
				break
			}
			if err := fn(hg, name, val); err != nil {
				return err
			}
		}
	}
	return nil
}

// ParseSnmp6 calls fn for each counter of a /proc/net/snmp6 file: lines
// "Name value" ("Ip6InReceives 42"); other lines are skipped.
func ParseSnmp6(b []byte, fn func(name, value []byte) error) error {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		name, rest := nextField(line)
		val, rest := nextField(rest)
		if val == nil || rest != nil {
			continue
		}
		if err := fn(name, val); err != nil {
			return err
		}
	}
	return nil
}

// nextField returns the first whitespace-separated field of b and the
// rest; nil when there is none.
func nextField(b []byte) (field, rest []byte) {
	b = bytes.TrimLeft(b, " \t\r")
	if len(b) == 0 {
		return nil, nil
	}
	i := bytes.IndexAny(b, " \t\r")
	if i < 0 {
		return b, nil
	}
	if r := bytes.TrimLeft(b[i:], " \t\r"); len(r) > 0 {
		return b[:i], r
	}
	return b[:i], nil
}

func firstField(b []byte) string {
	f, _ := nextField(b)
	return string(f)
}
