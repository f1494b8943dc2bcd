// SPDX-License-Identifier: Apache-2.0

// Command kernels runs the project's tests on other Linux kernels: it boots
// each kernel of a pinned list of Debian packages (kernels.list) in qemu and
// runs every package's test binary inside, as root, with
// TCPDROP_REQUIRE_BPF=1, then prints a table kernel x package and fails if
// any test failed or any kernel did not boot.
//
//	go run ./harness/kernels [-kernels 5.10,6.18] [-arch arm64] [-cache DIR]   (make test-kernels)
//	go run ./harness/kernels -images                                            (the images' paths only)
//
// Each line of the list is a kernel of one architecture: amd64 guests run
// under qemu-system-x86_64, arm64 guests under qemu-system-aarch64 (the
// virt machine), the test binaries and the collector cross-compiled for
// them (GOARCH, CGO_ENABLED=0), with the one committed kernel object.
//
// Steps: the packages are downloaded with apt through a private apt state
// and unpacked with dpkg-deb, all cached (a second run downloads nothing);
// the test binaries (CGO_ENABLED=0 go test -c, for every package go list
// finds with tests) and the collector (make build, for the end-to-end
// tests) are built on the host; each kernel gets an initramfs of its own
// (busybox, the modules the tests need, the binaries, the checkout's files)
// and boots without disk or network card; the tests' output comes back on
// the guest's second serial port.
//
// It is a Go tool rather than scripts because most of the work is parsing
// (the list, apt's answers, modinfo, go test -v output) and a table, which
// are unit-tested here; the shell is used inside the guest only, where
// busybox is all there is. It lives under harness/, outside the product's
// import graph.
//
// Needs: qemu-system-x86 (amd64) and qemu-system-arm (arm64), apt-get and dpkg-deb (any Debian), xz-utils for
// the modules of 6.12 and later, Go and make for the builds, git for the
// list of files, the network on the first run; not root. Guests use KVM
// where it runs stock kernels (kvm_intel, kvm_amd), else software emulation
// (tcg: a paravirtual KVM such as kvm_pvm cannot run them); guests of
// another architecture than the host's always use tcg.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(mainErr())
}

// cliOptions is what the command line asks for.
type cliOptions struct {
	listFile, cache, results string
	kernels, architectures   []string
	vm                       vmOptions
	flags                    []string
	images                   bool
}

func mainErr() int {
	opts := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := moduleRoot(ctx)
	if err != nil {
		return fail(err)
	}
	opts.resolvePaths(root)
	l, err := readList(opts.listFile)
	if err != nil {
		return fail(err)
	}
	picked, err := selectKernels(l.Kernels, opts.kernels, opts.architectures)
	if err != nil {
		return fail(err)
	}
	if opts.images {
		if err := printImages(ctx, os.Stdout, opts.cache, picked); err != nil {
			return fail(err)
		}
		return 0
	}
	if err := needTools(picked); err != nil {
		return fail(err)
	}

	runs, packages, skipped, err := runAll(ctx, root, opts.cache, l, picked, opts.vm, opts.flags)
	if err != nil {
		return fail(err)
	}
	return report(runs, packages, skipped, opts)
}

func parseFlags() cliOptions {
	listFile := flag.String("list", "harness/kernels/kernels.list", "the pinned list of kernel packages")
	kernels := flag.String("kernels", "", "only the kernels whose version starts with one of these (comma or space separated: 5.10,6.18)")
	architectures := flag.String("arch", "", "only the kernels of these architectures (comma or space separated: "+strings.Join(archNames(), ",")+"; default all)")
	cache := flag.String("cache", os.Getenv("TCPDROP_KERNEL_CACHE"), "the cache of packages, images and logs (default: _build/kernels)")
	results := flag.String("results", "", "where the table is written too (default: <cache>/results.md)")
	var vm vmOptions
	flag.StringVar(&vm.Accel, "accel", "auto", "qemu accelerator: kvm, tcg or auto (kvm where it runs stock kernels)")
	flag.IntVar(&vm.CPUs, "cpus", 2, "guest vCPUs")
	flag.IntVar(&vm.MemoryMiB, "memory", 2048, "guest memory, MiB")
	flag.DurationVar(&vm.BootTimeout, "boot-timeout", 2*time.Minute, "time for a guest to reach /init before its boot is retried")
	flag.DurationVar(&vm.Timeout, "timeout", 30*time.Minute, "watchdog per amd64 kernel: boot and every test (times the architecture's TimeScale: arm64 guests get 3 times as long)")
	flag.StringVar(&vm.Lock, "lock", "", "a file to hold an flock on while a guest runs (machines shared by several runs)")
	runTests := flag.String("run", "", "only the tests matching this -test.run pattern (for development)")
	skipTests := flag.String("skip", "", "not the tests matching this -test.skip pattern (CI's arm64 guest: the longest ones)")
	images := flag.Bool("images", false, "only fetch the kernels and print \"label<TAB>vmlinuz path\" for each, booting none")
	flag.Parse()
	flags := guestTestFlags
	if *runTests != "" {
		flags = append(flags, "-test.run="+*runTests)
	}
	if *skipTests != "" {
		flags = append(flags, "-test.skip="+*skipTests)
	}
	return cliOptions{
		listFile:      *listFile,
		cache:         *cache,
		results:       *results,
		kernels:       splitList(*kernels),
		architectures: splitList(*architectures),
		vm:            vm,
		flags:         flags,
		images:        *images,
	}
}

// resolvePaths fills the default paths and makes the list's path absolute,
// all under the module's root.
func (o *cliOptions) resolvePaths(root string) {
	if o.cache == "" {
		o.cache = filepath.Join(root, "_build", "kernels")
	}
	if o.results == "" {
		o.results = filepath.Join(o.cache, "results.md")
	}
	if !filepath.IsAbs(o.listFile) {
		o.listFile = filepath.Join(root, o.listFile)
	}
}

func readList(path string) (list, error) {
	f, err := os.Open(path)
	if err != nil {
		return list{}, err
	}
	l, err := parseList(f)
	f.Close()
	if err != nil {
		return list{}, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// report prints the table, writes it to the results file and says whether
// every test passed on every kernel, as the command's exit code.
func report(runs []kernelRun, packages []string, skipped map[string]string, opts cliOptions) int {
	table := renderResults(runs, packages, skipped)
	fmt.Println()
	fmt.Print(table)
	if err := os.WriteFile(opts.results, []byte(table), 0o644); err != nil {
		return fail(err)
	}
	logf("table written to %s; guest logs in %s", opts.results, filepath.Join(opts.cache, "logs"))
	for _, k := range runs {
		if !k.ok(packages) {
			// Again at the end: a CI log is often read from its tail.
			fmt.Print("\nFailures, as in the table above:\n", renderFailures(runs))
			logf("FAIL: not every test passed on every kernel")
			return 1
		}
	}
	logf("every test passed on %d kernel(s) in %s", len(runs), time.Since(start).Round(time.Second))
	return 0
}

// runAll boots the kernels one after the other, preparing what the guests
// of an architecture share before its first kernel. It returns the packages
// the guests ran and those left to the host, with why. A kernel that cannot
// be fetched is reported in its column; the others still run.
func runAll(ctx context.Context, root, cache string, l list, kernels []pkg, vm vmOptions, flags []string) (runs []kernelRun, packages []string, hostSide map[string]string, err error) {
	var all []pkg
	for _, b := range l.Busybox {
		all = append(all, b)
	}
	fetch := newFetcher(cache, append(all, kernels...))
	tree, err := sourceTree(ctx, root)
	if err != nil {
		return nil, nil, nil, err
	}
	logf("writing the container image archive")
	image, err := buildImage(ctx, root)
	if err != nil {
		return nil, nil, nil, err
	}
	guests := map[string]guestFiles{}
	for _, p := range kernels {
		g, ok := guests[p.Arch]
		if !ok {
			if g, hostSide, err = prepareArch(ctx, fetch, root, archs[p.Arch], l.Busybox[p.Arch], tree, flags); err != nil {
				return nil, nil, nil, err
			}
			g.Image = image
			guests[p.Arch] = g
			if packages == nil {
				for _, t := range g.Tests {
					packages = append(packages, t.Package)
				}
			}
		}
		r := kernelRun{Kernel: p}
		if err := runKernel(ctx, fetch, g, vm, &r); err != nil {
			if ctx.Err() != nil {
				return nil, nil, nil, ctx.Err()
			}
			r.Err = err.Error()
			logf("%s: %v", p.label(), err)
		}
		runs = append(runs, r)
	}
	return runs, packages, hostSide, nil
}

// prepareArch makes what every guest of an architecture shares: its
// busybox, the test binaries, the collector and holdhooks built for it.
func prepareArch(ctx context.Context, fetch *fetcher, root string, a arch, busybox pkg, tree []string, flags []string) (g guestFiles, hostSide map[string]string, err error) {
	bbDir, err := fetch.unpacked(ctx, busybox)
	if err != nil {
		return g, nil, err
	}
	flags = append(slices.Clone(flags), fmt.Sprintf("-test.timeout=%s", guestTestTimeout*time.Duration(a.TimeScale)))
	g = guestFiles{Busybox: filepath.Join(bbDir, "bin", "busybox"), Root: root, Tree: tree, Flags: flags, TestsTTY: a.TestsTTY}
	logf("building the test binaries and the collector for %s", a.Name)
	if g.Tests, hostSide, err = buildTests(ctx, root, filepath.Join(fetch.cache, "tests", a.Name), a.Name); err != nil {
		return g, nil, err
	}
	if g.Collector, err = buildCollector(ctx, root, a.Name); err != nil {
		return g, nil, err
	}
	if g.HoldHooks, err = buildHoldHooks(ctx, root, filepath.Join(fetch.cache, "tests", a.Name), a.Name); err != nil {
		return g, nil, err
	}
	return g, hostSide, nil
}

// runKernel fetches one kernel, builds its initramfs and boots it.
func runKernel(ctx context.Context, fetch *fetcher, g guestFiles, vm vmOptions, r *kernelRun) error {
	cache := fetch.cache
	dir, err := fetch.unpacked(ctx, r.Kernel)
	if err != nil {
		return err
	}
	k, err := findKernel(r.Kernel, dir)
	if err != nil {
		return err
	}
	mods, notes, err := kernelModules(ctx, k)
	if err != nil {
		return err
	}
	name := k.upstream() + "-" + k.Arch
	initrd := filepath.Join(cache, "initrd", name+".cpio")
	if err := os.MkdirAll(filepath.Dir(initrd), 0o755); err != nil {
		return err
	}
	if err := writeInitramfs(initrd, g, mods, notes); err != nil {
		return err
	}
	r.Boot, err = bootKernel(ctx, vm, k, initrd, filepath.Join(cache, "logs", name))
	os.Remove(initrd) // 150 MB, and made anew each run
	if err != nil {
		return err
	}
	r.Report = parseGuest(r.Boot.Output)
	if m := r.Report.Machine; m != "" && m != archs[k.Arch].Uname {
		return fmt.Errorf("the guest runs %s, not %s", m, archs[k.Arch].Uname)
	}
	logf("%s: %s", k.label(), r.guestCell())
	return nil
}

// moduleRoot is the folder of the go.mod this runs in: the checkout.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := run(ctx, "", nil, "go", "env", "GOMOD")
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(out)
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the project's checkout (no go.mod)")
	}
	return filepath.Dir(gomod), nil
}

// needTools fails early, and says what to install, when a program the
// kernels need is missing.
func needTools(kernels []pkg) error {
	names := []string{"apt-get", "dpkg-deb", "go", "make", "git"}
	install := map[string]string{}
	for _, k := range kernels {
		a := archs[k.Arch]
		names = append(names, a.QEMU)
		install[a.QEMU] = a.QEMUPackage
	}
	var missing []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if p, ok := install[n]; ok {
				n += " (apt-get install --no-install-recommends " + p + ")"
			}
			if !slices.Contains(missing, n) {
				missing = append(missing, n)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func fail(err error) int {
	logf("error: %v", err)
	return 2
}
