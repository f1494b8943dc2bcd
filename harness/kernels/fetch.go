// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// fetcher gives the unpacked files of the list's packages, from the cache
// when they are there: apt is only asked when something is missing, so a
// second run downloads nothing.
type fetcher struct {
	cache  string   // the cache folder
	suites []string // every suite the run needs, read at the first download
	apt    apt
	ready  bool // the private apt state has been read
}

func newFetcher(cache string, ps []pkg) *fetcher {
	var suites, archs []string
	for _, p := range ps {
		suites = append(suites, p.Suite)
		if !slices.Contains(archs, p.Arch) {
			archs = append(archs, p.Arch)
		}
	}
	slices.Sort(archs)
	return &fetcher{cache: cache, suites: suites, apt: apt{dir: filepath.Join(cache, "apt"), archs: archs}}
}

// unpacked returns the folder that holds p's files (with those of the
// kernel packages it pulls in), downloaded and unpacked on first use. The
// folder is renamed into place only once complete, so an interrupted run
// leaves nothing half-made.
func (f *fetcher) unpacked(ctx context.Context, p pkg) (string, error) {
	dir := filepath.Join(f.cache, "unpacked", p.Name+"_"+strings.ReplaceAll(p.Version, ":", "%3a")+"_"+p.Arch)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if !f.ready {
		if err := f.apt.setUp(ctx, f.suites); err != nil {
			return "", err
		}
		f.ready = true
	}
	ps, err := f.apt.packages(ctx, p)
	if err != nil {
		return "", err
	}
	debs := filepath.Join(f.cache, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return "", err
	}
	logf("%s %s %s: downloading %d package(s)", p.Name, p.Version, p.Arch, len(ps))
	files, err := f.apt.download(ctx, debs, ps)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".unpack-")
	if err != nil {
		return "", err
	}
	for _, deb := range files {
		if _, err := run(ctx, "", nil, "dpkg-deb", "-x", deb, tmp); err != nil {
			os.RemoveAll(tmp)
			return "", err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return dir, nil
}

// A kernel is an unpacked kernel package: the image to boot and its modules.
type kernel struct {
	pkg
	Release string // uname -r, the modules folder's name
	Image   string // the vmlinuz
	Modules string // lib/modules/<release>
}

// findKernel locates the image and modules in an unpacked kernel package:
// /boot/vmlinuz-R and /lib/modules/R on older packages, /usr/lib/modules/R
// (vmlinuz inside) on newer ones.
func findKernel(p pkg, root string) (kernel, error) {
	for _, base := range []string{"lib/modules", "usr/lib/modules"} {
		entries, _ := os.ReadDir(filepath.Join(root, base))
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			k := kernel{pkg: p, Release: e.Name(), Modules: filepath.Join(root, base, e.Name())}
			for _, image := range []string{filepath.Join(root, "boot", "vmlinuz-"+k.Release), filepath.Join(k.Modules, "vmlinuz")} {
				if _, err := os.Stat(image); err == nil {
					k.Image = image
					return k, nil
				}
			}
			return kernel{}, fmt.Errorf("%s: modules for %s but no vmlinuz", p.Name, k.Release)
		}
	}
	return kernel{}, fmt.Errorf("%s: no lib/modules/<release> in %s", p.Name, root)
}
