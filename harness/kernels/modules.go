// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// guestModules are the modules the tests need, loaded by the guest's /init
// with their dependencies: nf_tables (through nfnetlink) and its counter
// expression for the firewall drops (a module of its own up to 5.10, where
// the rules fail with "no such file or directory" without it), the
// sock_diag family for the listener watcher, and xfrm_user because the
// netlink library opens a NETLINK_XFRM socket in every handle (without it
// every sandbox fails: "protocol not supported"), and nft_reject_inet for
// the ICMP errors that make connects fail with EHOSTUNREACH. A module the
// kernel asks for that is not here shows in the report as a modprobe
// request.
var guestModules = []string{"nfnetlink", "nf_tables", "nft_counter", "inet_diag", "tcp_diag", "udp_diag", "xfrm_user", "nft_reject_inet"}

// A module is one .ko, decompressed, ready for insmod.
type module struct {
	Name string
	Data []byte
}

// moduleName is the name the kernel gives a module file: its base name
// without .ko and the compression suffix, dashes made underscores.
func moduleName(file string) string {
	base := filepath.Base(file)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

// loadOrder returns the modules to load for wanted, each after the modules it
// depends on, each once. depends gives a module's dependencies, or
// present=false for one the kernel has built in or lacks: those are left
// out, with a note.
func loadOrder(wanted []string, depends func(name string) (deps []string, present bool, err error)) (order, notes []string, err error) {
	state := map[string]int{} // 1: being visited, 2: done
	var visit func(name string, from []string) error
	visit = func(name string, from []string) error {
		switch state[name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("modules depend on each other in a cycle: %s", strings.Join(append(from, name), " -> "))
		}
		state[name] = 1
		deps, present, err := depends(name)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := visit(d, append(from, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		if present {
			order = append(order, name)
		} else {
			notes = append(notes, name)
		}
		return nil
	}
	for _, w := range wanted {
		if err := visit(w, nil); err != nil {
			return nil, nil, err
		}
	}
	return order, notes, nil
}

// kernelModules reads the modules the guest needs out of a kernel's modules
// folder, decompressed, in load order. The order comes from each module's
// own modinfo (depends=), so neither the host's kmod nor a modules.dep is
// needed. notes names the wanted modules that are not files: built in (as
// modules.builtin says) or absent from this kernel.
func kernelModules(ctx context.Context, k kernel) (mods []module, notes []string, err error) {
	files, err := moduleFiles(k)
	if err != nil {
		return nil, nil, err
	}
	kos := map[string][]byte{}
	depends := func(name string) ([]string, bool, error) {
		file, ok := files[name]
		if !ok {
			return nil, false, nil
		}
		ko, err := decompress(ctx, file)
		if err != nil {
			return nil, false, err
		}
		kos[name] = ko
		deps, err := modinfoDepends(ko)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", file, err)
		}
		return deps, true, nil
	}
	order, missing, err := loadOrder(guestModules, depends)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range order {
		mods = append(mods, module{Name: name, Data: kos[name]})
	}
	return mods, missingNotes(k, missing), nil
}

// moduleFiles is the kernel's module files by module name.
func moduleFiles(k kernel) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(filepath.Join(k.Modules, "kernel"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), ".ko") {
			files[moduleName(path)] = path
		}
		return err
	})
	return files, err
}

// missingNotes says, for each module without a file, whether the kernel
// has it built in, as far as its modules.builtin tells.
func missingNotes(k kernel, missing []string) (notes []string) {
	builtin := map[string]bool{}
	data, err := os.ReadFile(filepath.Join(k.Modules, "modules.builtin"))
	haveBuiltin := err == nil // 7.x packages ship no modules.builtin
	for _, line := range strings.Fields(string(data)) {
		builtin[moduleName(line)] = true
	}
	for _, name := range missing {
		switch {
		case builtin[name]:
			notes = append(notes, name+": built in")
		case haveBuiltin:
			notes = append(notes, name+": not in this kernel (or part of another module)")
		default:
			notes = append(notes, name+": no module file (built in, or not in this kernel)")
		}
	}
	return notes
}

// modinfoDepends reads the depends= entry of a module's .modinfo section:
// the modules it needs loaded first.
func modinfoDepends(ko []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return nil, err
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("no .modinfo section")
	}
	info, err := sec.Data()
	if err != nil {
		return nil, err
	}
	for _, entry := range bytes.Split(info, []byte{0}) {
		if list, ok := bytes.CutPrefix(entry, []byte("depends=")); ok {
			var deps []string
			for _, d := range strings.Split(string(list), ",") {
				if d != "" {
					deps = append(deps, strings.ReplaceAll(d, "-", "_"))
				}
			}
			return deps, nil
		}
	}
	return nil, nil
}

// decompress reads a module file, uncompressing .ko.gz here and .ko.xz and
// .ko.zst with xz and zstd (the kernel's insmod in busybox takes plain .ko
// only; Debian compresses modules with xz from 6.12 on).
func decompress(ctx context.Context, file string) ([]byte, error) {
	switch {
	case strings.HasSuffix(file, ".ko"):
		return os.ReadFile(file)
	case strings.HasSuffix(file, ".ko.gz"):
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return io.ReadAll(z)
	case strings.HasSuffix(file, ".ko.xz"):
		out, err := run(ctx, "", nil, "xz", "-dc", file)
		return []byte(out), err
	case strings.HasSuffix(file, ".ko.zst"):
		out, err := run(ctx, "", nil, "zstd", "-qdc", file)
		return []byte(out), err
	}
	return nil, fmt.Errorf("%s: not a kernel module file", file)
}
