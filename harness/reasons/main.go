// SPDX-License-Identifier: Apache-2.0

// Command reasons writes docs/reasons/names.tsv: every drop reason (enum
// skb_drop_reason) and reset reason (enum sk_rst_reason) of the kernels in
// harness/kernels/kernels.list and of the running kernel, with the kernels
// that have each, read from their BTF, so that docs/reasons.md, which
// catalogues them, cannot miss one (its tests check it against the file).
//
//	go run ./harness/reasons [-out docs/reasons/names.tsv]   (make reasons)
//
// The kernels come from harness/kernels (go run ./harness/kernels -images:
// its apt cache, TCPDROP_KERNEL_CACHE or _build/kernels, downloads on the
// first run); their BTF is the vmlinux's, inside the image's payload,
// unpacked with zstd, lz4, xz or gzip. Needs those programs, apt-get and
// dpkg-deb, Go; not root.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

func main() {
	out := flag.String("out", "docs/reasons/names.tsv", "the data file to write (relative: to the checkout's root)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *out)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "reasons:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out string) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	images, err := listImages(ctx, root)
	if err != nil {
		return err
	}
	var kernels []kernelNames
	for _, im := range images {
		spec, err := imageBTF(ctx, im.path)
		if err != nil {
			return fmt.Errorf("%s: %w", im.label, err)
		}
		k, err := namesOf(im.label, spec)
		if err != nil {
			return err
		}
		kernels = append(kernels, k)
	}
	running, err := runningKernel()
	if err != nil {
		return err
	}
	if running != nil {
		kernels = append(kernels, *running)
	}
	slices.SortStableFunc(kernels, func(a, b kernelNames) int {
		return compareVersions(version(a.Label), version(b.Label))
	})
	var buf bytes.Buffer
	if err := writeRows(&buf, rows(kernels)); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

func namesOf(label string, spec *btf.Spec) (kernelNames, error) {
	enums, err := enumNames(spec)
	if err != nil {
		return kernelNames{}, fmt.Errorf("%s: %w", label, err)
	}
	fmt.Fprintf(os.Stderr, "%s: %d drop reasons, %d reset reasons\n", label, len(enums[dropEnum]), len(enums[resetEnum]))
	return kernelNames{Label: label, Enums: enums}, nil
}

type image struct{ label, path string }

// moduleRoot is the folder of the go.mod this runs in: the checkout.
func moduleRoot(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(b))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the project's checkout (no go.mod)")
	}
	return filepath.Dir(gomod), nil
}

// listImages asks harness/kernels for the list's kernel images, fetched.
func listImages(ctx context.Context, root string) ([]image, error) {
	cmd := exec.CommandContext(ctx, "go", "run", "./harness/kernels", "-images")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go run ./harness/kernels -images: %w", err)
	}
	var images []image
	for line := range strings.Lines(string(b)) {
		label, path, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok {
			return nil, fmt.Errorf("harness/kernels -images printed %q, not label<TAB>path", line)
		}
		images = append(images, image{label, path})
	}
	return images, nil
}

// runningKernel reads the names of the kernel this runs on, labelled with
// its release and "running"; nil on a kernel without BTF.
func runningKernel() (*kernelNames, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		if _, statErr := os.Stat("/sys/kernel/btf/vmlinux"); errors.Is(statErr, fs.ErrNotExist) {
			fmt.Fprintln(os.Stderr, "the running kernel has no BTF: left out")
			return nil, nil
		}
		return nil, err
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, err
	}
	k, err := namesOf(unix.ByteSliceToString(u.Release[:])+" "+runtime.GOARCH+" running", spec)
	return &k, err
}
