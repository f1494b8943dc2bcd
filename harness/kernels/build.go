// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// guestTestFlags are given to every test binary in the guest: verbose, so
// that each test's result and skip message can be read back.
var guestTestFlags = []string{"-test.v", "-test.count=1"}

// guestTestTimeout is each test binary's timeout in an amd64 guest (times
// the architecture's TimeScale): well under the kernel's watchdog, so that
// a hung test still reports.
const guestTestTimeout = 10 * time.Minute

// hostOnly are the packages whose tests cannot run in the guest, and why:
// they are run by `make test` on the host only.
var hostOnly = map[string]string{
	"cmd/tcpdrop-bench": "its tests build the collector with make and compare it with bpftrace, host tools the guest lacks",
	"deploy":            "its tests run the container image with docker and check the manifests with kubeconform, host tools the guest lacks",
	"harness":           "its test checks the import graph with go list, and the guest has no Go toolchain",
	"harness/kernels":   "the harness itself: its tests are unit tests of the host side",
}

// A testBinary is one package's tests, compiled on the host.
type testBinary struct {
	Package string // import path relative to the module, "internal/probe"
	Dir     string // the package's folder relative to the checkout
	Binary  string // file name in the guest's /tests
	Path    string // the binary on the host
}

// testPackages lists, with go list, the module's packages that have tests,
// relative to the module's path, with their folders.
func testPackages(ctx context.Context, root string) (pkgs, dirs []string, err error) {
	out, err := run(ctx, root, nil, "go", "list", "-f", "{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}", "./...")
	if err != nil {
		return nil, nil, err
	}
	module, err := run(ctx, root, nil, "go", "list", "-m")
	if err != nil {
		return nil, nil, err
	}
	prefix := strings.TrimSpace(module) + "/"
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		path, dir, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			return nil, nil, err
		}
		pkgs = append(pkgs, strings.TrimPrefix(path, prefix))
		dirs = append(dirs, rel)
	}
	return pkgs, dirs, nil
}

// buildTests compiles every package's tests into dir for the architecture
// goarch, static (the guest has no C library), except the hostOnly ones,
// which it returns with why.
func buildTests(ctx context.Context, root, dir, goarch string) (bins []testBinary, skipped map[string]string, err error) {
	pkgs, dirs, err := testPackages(ctx, root)
	if err != nil {
		return nil, nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	skipped = map[string]string{}
	for i, p := range pkgs {
		if why, ok := hostOnly[p]; ok {
			skipped[p] = why
			continue
		}
		b := testBinary{Package: p, Dir: dirs[i], Binary: strings.ReplaceAll(p, "/", "_") + ".test"}
		b.Path = filepath.Join(dir, b.Binary)
		if _, err := run(ctx, root, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch}, "go", "test", "-c", "-o", b.Path, "./"+dirs[i]); err != nil {
			return nil, nil, err
		}
		bins = append(bins, b)
	}
	logf("built %d test binaries for %s (%d packages are for the host only)", len(bins), goarch, len(skipped))
	return bins, skipped, nil
}

// buildCollector builds the collector for the architecture goarch with
// make build-<goarch> (the end-to-end tests run it in the guest, which has
// no Go toolchain) and returns its path.
func buildCollector(ctx context.Context, root, goarch string) (string, error) {
	if _, err := run(ctx, root, nil, "make", "--no-print-directory", "build-"+goarch); err != nil {
		return "", err
	}
	return filepath.Join(root, "_build", "linux-"+goarch, "otelcol-tcpdrop"), nil
}

// buildHoldHooks builds the guest's holdhooks command (see its package) for
// the architecture goarch and returns its path.
func buildHoldHooks(ctx context.Context, root, dir, goarch string) (string, error) {
	out := filepath.Join(dir, "holdhooks")
	if _, err := run(ctx, root, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch}, "go", "build", "-o", out, "./harness/kernels/holdhooks"); err != nil {
		return "", err
	}
	return out, nil
}

// buildImage writes the container image archive with make image-archive
// (every architecture's image under one tag; harness/ociimage's test runs
// the guest's own in each guest) and returns its path.
func buildImage(ctx context.Context, root string) (string, error) {
	if _, err := run(ctx, root, nil, "make", "--no-print-directory", "image-archive"); err != nil {
		return "", err
	}
	return filepath.Join(root, "_build", "image", "otelcol-tcpdrop.tar"), nil
}

// sourceTree lists the checkout's files the guest gets (tracked and
// untracked ones git does not ignore): the tests read testdata/ from there.
func sourceTree(ctx context.Context, root string) ([]string, error) {
	out, err := run(ctx, root, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range strings.Split(out, "\x00") {
		if f == "" {
			continue
		}
		if _, err := os.Lstat(filepath.Join(root, f)); err == nil { // deleted but not yet staged: left out
			files = append(files, f)
		}
	}
	sort.Strings(files)
	return files, nil
}
