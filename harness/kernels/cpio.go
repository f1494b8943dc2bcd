// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"
)

// cpioWriter writes an uncompressed cpio archive in the "newc" format, the
// one the kernel unpacks as its initramfs (Documentation/driver-api/
// early-userspace/buffer-format.rst). Uncompressed: every kernel takes it and
// it costs no time to unpack. Parent folders are written before their
// entries, once.
type cpioWriter struct {
	w    *bufio.Writer
	ino  uint32
	dirs map[string]bool
	err  error
}

func newCPIO(w io.Writer) *cpioWriter {
	return &cpioWriter{w: bufio.NewWriterSize(w, 1<<20), dirs: map[string]bool{"": true, ".": true}}
}

const (
	modeDir     = 0o040000
	modeFile    = 0o100000
	modeSymlink = 0o120000
	modeChar    = 0o020000
)

// entry writes one header, its name and its data, each padded to 4 bytes.
func (c *cpioWriter) entry(name string, mode uint32, rdevMajor, rdevMinor uint32, data []byte) {
	if c.err != nil {
		return
	}
	c.ino++
	nlink := uint32(1)
	if mode&0o170000 == modeDir {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write([]byte(name + "\x00"))
	c.pad(len(hdr) + len(name) + 1)
	c.write(data)
	c.pad(len(data))
}

func (c *cpioWriter) write(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}

func (c *cpioWriter) pad(n int) {
	if r := n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// parents writes the folders above name that are not written yet.
func (c *cpioWriter) parents(name string) {
	dir := path.Dir(name)
	if c.dirs[dir] {
		return
	}
	c.parents(dir)
	c.dirs[dir] = true
	c.entry(dir, modeDir|0o755, 0, 0, nil)
}

// Dir writes a folder (and its parents).
func (c *cpioWriter) Dir(name string) {
	name = clean(name)
	if c.dirs[name] {
		return
	}
	c.parents(name)
	c.dirs[name] = true
	c.entry(name, modeDir|0o755, 0, 0, nil)
}

// File writes a regular file with permissions perm.
func (c *cpioWriter) File(name string, perm uint32, data []byte) {
	name = clean(name)
	c.parents(name)
	c.entry(name, modeFile|perm&0o7777, 0, 0, data)
}

// Symlink writes a symbolic link to target.
func (c *cpioWriter) Symlink(name, target string) {
	name = clean(name)
	c.parents(name)
	c.entry(name, modeSymlink|0o777, 0, 0, []byte(target))
}

// CharDevice writes a character device node (such as /dev/console, which
// the kernel opens for /init before any devtmpfs is mounted).
func (c *cpioWriter) CharDevice(name string, major, minor uint32) {
	name = clean(name)
	c.parents(name)
	c.entry(name, modeChar|0o600, major, minor, nil)
}

// Close writes the trailer and flushes.
func (c *cpioWriter) Close() error {
	c.entry("TRAILER!!!", 0, 0, 0, nil)
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}

// clean makes an archive name: relative, no leading "./" or "/".
func clean(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}
