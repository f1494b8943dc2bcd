// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// A kernelRun is one kernel's outcome: how its guest went and what its
// tests said. Err is set when the run could not even be prepared.
type kernelRun struct {
	Kernel pkg
	Boot   boot
	Report guestReport
	Err    string
}

// ok tells whether the kernel booted, ran every expected package and none
// failed.
func (k kernelRun) ok(packages []string) bool {
	if k.Err != "" || k.Boot.Problem != "" || !k.Report.Done {
		return false
	}
	for _, p := range packages {
		r, found := k.find(p)
		if !found || r.failed() {
			return false
		}
	}
	return true
}

func (k kernelRun) find(pkg string) (pkgRun, bool) {
	for _, r := range k.Report.Packages {
		if r.Package == pkg {
			return r, true
		}
	}
	return pkgRun{}, false
}

// cell says how one package did on one kernel.
func (k kernelRun) cell(pkg string) string {
	r, found := k.find(pkg)
	if !found {
		return "not run"
	}
	pass, fail, skip := r.counts()
	parts := []string{fmt.Sprintf("%d pass", pass)}
	if fail > 0 {
		parts = append(parts, fmt.Sprintf("**%d FAIL**", fail))
	}
	if skip > 0 {
		parts = append(parts, fmt.Sprintf("%d skip", skip))
	}
	switch {
	case !r.Finished:
		parts = append(parts, "**stopped**")
	case r.Exit != 0 && fail == 0:
		parts = append(parts, fmt.Sprintf("**exit %d**", r.Exit))
	}
	return strings.Join(parts, ", ")
}

// guestCell says how the guest went: its time and accelerator, or why it did
// not finish.
func (k kernelRun) guestCell() string {
	switch {
	case k.Err != "":
		return "**not run**"
	case !k.Report.Booted:
		return "**DID NOT BOOT**"
	case k.Boot.Problem != "":
		return "**" + k.Boot.Problem + "**"
	}
	s := fmt.Sprintf("%s, %s", k.Boot.Wall.Round(time.Second), k.Boot.Accel)
	if k.Boot.Attempts > 1 {
		s += fmt.Sprintf(", %d boots", k.Boot.Attempts)
	}
	return s
}

// renderResults is the run's report in Markdown: the table kernel x package,
// then every failure with what it logged, and every skip with its reason
// (the kernel feature the test found missing), one line per reason with
// the kernels it was seen on.
func renderResults(runs []kernelRun, packages []string, hostOnly map[string]string) string {
	var b strings.Builder
	writeResultTable(&b, runs, packages)
	writeHostOnly(&b, hostOnly)
	if failures := renderFailures(runs); failures != "" {
		b.WriteString("\n## Failures\n")
		b.WriteString(failures)
	}
	b.WriteString(renderSkips(runs))
	if notes := renderNotes(runs); notes != "" {
		b.WriteString("\n## Guest notes\n\nModules not loaded as files, the modules the kernel asked for (the guest has none to give), and hooks /init could not hold.\n\n")
		b.WriteString(notes)
	}
	return b.String()
}

// writeResultTable writes the table kernel x package, headed by how each
// guest went.
func writeResultTable(b *strings.Builder, runs []kernelRun, packages []string) {
	b.WriteString("| package |")
	for _, k := range runs {
		fmt.Fprintf(b, " %s |", k.Kernel.label())
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---|", len(runs)))
	b.WriteString("\n| (guest) |")
	for _, k := range runs {
		fmt.Fprintf(b, " %s |", k.guestCell())
	}
	b.WriteString("\n")
	for _, p := range packages {
		fmt.Fprintf(b, "| %s |", p)
		for _, k := range runs {
			fmt.Fprintf(b, " %s |", k.cell(p))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nCounts are tests; a test with subtests counts through its subtests.\n")
}

// writeHostOnly names the packages the guests do not run, in name order.
func writeHostOnly(b *strings.Builder, hostOnly map[string]string) {
	var host []string
	for p := range hostOnly {
		host = append(host, p)
	}
	sort.Strings(host)
	for _, p := range host {
		fmt.Fprintf(b, "Not run in the guests: %s (%s).\n", p, hostOnly[p])
	}
}

// renderFailures lists, kernel by kernel, why a run could not start or boot,
// each failed leaf test with the start of its log, each crash, and each
// package that exited non-zero with no failed test.
func renderFailures(runs []kernelRun) string {
	var failures strings.Builder
	for _, k := range runs {
		name := k.Kernel.label()
		if k.Err != "" {
			fmt.Fprintf(&failures, "\n%s: %s\n", name, k.Err)
			continue
		}
		if k.Boot.Problem != "" {
			fmt.Fprintf(&failures, "\n%s: %s (logs in %s)\n", name, k.Boot.Problem, k.Boot.Logs)
		}
		for _, r := range k.Report.Packages {
			writePackageFailures(&failures, name, r)
		}
	}
	return failures.String()
}

// writePackageFailures writes one package's failures on the kernel name.
func writePackageFailures(failures *strings.Builder, name string, r pkgRun) {
	for _, t := range r.Tests {
		if t.Status != "FAIL" || hasFailedChild(r, t.Name) {
			continue
		}
		fmt.Fprintf(failures, "\n%s %s %s\n", name, r.Package, t.Name)
		for i, m := range t.Messages {
			if i == 8 {
				fmt.Fprintf(failures, "    ... (%d more lines in tests.log)\n", len(t.Messages)-i)
				break
			}
			fmt.Fprintf(failures, "    %s\n", m)
		}
	}
	for _, c := range r.Crash {
		fmt.Fprintf(failures, "\n%s %s: %s\n", name, r.Package, c)
	}
	if r.Finished && r.Exit != 0 && len(r.Crash) == 0 {
		if _, fail, _ := r.counts(); fail == 0 {
			fmt.Fprintf(failures, "\n%s %s: exit %d with no failed test (see tests.log)\n", name, r.Package, r.Exit)
		}
	}
}

// renderSkips is the Skipped section: one row per package, test and reason,
// with the kernels it was seen on, in the order first seen; empty when
// nothing was skipped.
func renderSkips(runs []kernelRun) string {
	type skipKey struct{ pkg, test, reason string }
	var keys []skipKey
	seenOn := map[skipKey][]string{}
	for _, k := range runs {
		for _, r := range k.Report.Packages {
			for _, t := range r.Tests {
				if t.Status != "SKIP" {
					continue
				}
				key := skipKey{r.Package, t.Name, t.skipReason()}
				if seenOn[key] == nil {
					keys = append(keys, key)
				}
				seenOn[key] = append(seenOn[key], k.Kernel.label())
			}
		}
	}
	if len(keys) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n## Skipped\n\n| package | test | reason | kernels |\n|---|---|---|---|\n")
	for _, key := range keys {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", key.pkg, key.test, strings.ReplaceAll(key.reason, "|", "\\|"), strings.Join(seenOn[key], ", "))
	}
	return b.String()
}

// renderNotes lists each kernel's guest notes once, in the order first
// seen, with how often each repeated.
func renderNotes(runs []kernelRun) string {
	var notes strings.Builder
	for _, k := range runs {
		seen := map[string]int{}
		var order []string
		for _, n := range k.Report.Notes {
			if seen[n] == 0 {
				order = append(order, n)
			}
			seen[n]++
		}
		for _, n := range order {
			if seen[n] > 1 {
				n = fmt.Sprintf("%s (%d times)", n, seen[n])
			}
			fmt.Fprintf(&notes, "- %s: %s\n", k.Kernel.label(), n)
		}
	}
	return notes.String()
}

func hasFailedChild(r pkgRun, name string) bool {
	for _, t := range r.Tests {
		if t.Status == "FAIL" && strings.HasPrefix(t.Name, name+"/") {
			return true
		}
	}
	return false
}
