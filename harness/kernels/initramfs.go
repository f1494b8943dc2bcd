// SPDX-License-Identifier: Apache-2.0

package main

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

//go:embed init.sh
var initScript []byte

// The guest's /sbin/modprobe, which the kernel runs to ask for a module it
// lacks: it only reports the request (the modules were loaded by /init), so
// that a missing one shows in the log.
const modprobeScript = "#!/bin/sh\necho \"@@harness modprobe-request $*\" >/dev/$(cat /etc/harness-tty)\nexit 1\n"

// guestFiles is what every guest gets besides the modules: busybox, the
// test binaries with their list, the project's tree (the tests read
// testdata/ relative to their package) and the collector.
type guestFiles struct {
	Busybox   string // the static busybox binary (/init links its applets)
	Tests     []testBinary
	Root      string   // the project's checkout
	Tree      []string // files of the checkout, relative to Root
	Collector string   // the collector binary, /bin/otelcol-tcpdrop in the guest
	Image     string   // the image archive (make image-archive), /image/otelcol-tcpdrop.tar
	HoldHooks string   // harness/kernels/holdhooks built for the guest, /bin/holdhooks
	Flags     []string // for every test binary
	TestsTTY  string   // the serial port the tests' output goes to
}

// writeInitramfs writes the initramfs for one kernel: guestFiles and the
// kernel's modules (in load order, named NN-name.ko).
func writeInitramfs(out string, g guestFiles, mods []module, notes []string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	c := newCPIO(f)
	addSystem(c, g)
	if err := addBinaries(c, g); err != nil {
		return err
	}
	addModules(c, mods, notes)
	if err := addTests(c, g); err != nil {
		return err
	}
	c.Dir("src")
	for _, rel := range g.Tree {
		if err := addFile(c, "src/"+rel, filepath.Join(g.Root, rel)); err != nil {
			return err
		}
	}
	if err := c.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// addSystem adds the directories, console, init and /etc files busybox
// and the tests expect.
func addSystem(c *cpioWriter, g guestFiles) {
	for _, d := range []string{"proc", "sys", "dev", "tmp", "run", "root", "etc", "sbin"} {
		c.Dir(d)
	}
	c.CharDevice("dev/console", 5, 1)
	c.File("init", 0o755, initScript)
	c.File("sbin/modprobe", 0o755, []byte(modprobeScript))
	c.File("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"))
	c.File("etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n"))
	c.File("etc/hosts", 0o644, []byte("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"))
	c.File("etc/nsswitch.conf", 0o644, []byte("hosts: files\n"))
	c.File("etc/harness-tty", 0o644, []byte(g.TestsTTY+"\n"))
}

// addBinaries adds busybox, and holdhooks, the collector and its image
// when the tests need them.
func addBinaries(c *cpioWriter, g guestFiles) error {
	if err := addFile(c, "bin/busybox", g.Busybox); err != nil {
		return err
	}
	if g.HoldHooks != "" {
		if err := addFile(c, "bin/holdhooks", g.HoldHooks); err != nil {
			return err
		}
	}
	if g.Collector != "" {
		if err := addFile(c, "bin/otelcol-tcpdrop", g.Collector); err != nil {
			return err
		}
	}
	if g.Image != "" {
		c.Dir("image")
		if err := addFile(c, "image/otelcol-tcpdrop.tar", g.Image); err != nil {
			return err
		}
	}
	return nil
}

// addModules adds the modules numbered in load order, the order file init
// reads, and the notes on modules not loaded as files.
func addModules(c *cpioWriter, mods []module, notes []string) {
	var order strings.Builder
	for i, m := range mods {
		name := fmt.Sprintf("%02d-%s.ko", i+1, m.Name)
		c.File("modules/"+name, 0o644, m.Data)
		order.WriteString(name + "\n")
	}
	c.File("modules/order", 0o644, []byte(order.String()))
	c.File("modules/notes", 0o644, []byte(strings.Join(append(notes, ""), "\n")))
}

// addTests adds the test binaries and the list init runs them from: each
// one's package, directory, binary and flags.
func addTests(c *cpioWriter, g guestFiles) error {
	var list strings.Builder
	for _, t := range g.Tests {
		if err := addFile(c, "tests/"+t.Binary, t.Path); err != nil {
			return err
		}
		fmt.Fprintf(&list, "%s %s %s %s\n", t.Package, t.Dir, t.Binary, strings.Join(g.Flags, " "))
	}
	c.File("tests/list", 0o644, []byte(list.String()))
	return nil
}

// addFile copies a host file into the archive, keeping its permissions.
func addFile(c *cpioWriter, name, host string) error {
	st, err := os.Lstat(host)
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(host)
		if err != nil {
			return err
		}
		c.Symlink(name, target)
		return nil
	}
	if !st.Mode().IsRegular() {
		return nil
	}
	data, err := os.ReadFile(host)
	if err != nil {
		return err
	}
	c.File(name, uint32(st.Mode().Perm()), data)
	return nil
}
