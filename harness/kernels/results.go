// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"strconv"
	"strings"
)

// A testResult is one test (or subtest) as `go test -v` reported it, with
// the lines it logged (t.Log, t.Error, t.Skip messages).
type testResult struct {
	Name     string
	Status   string // PASS, FAIL or SKIP
	Messages []string
}

// A pkgRun is one test binary's run in the guest.
type pkgRun struct {
	Package  string
	Finished bool // the binary exited (else the guest stopped first)
	Exit     int
	Seconds  float64
	Tests    []testResult
	Crash    []string // panic and timeout lines, not part of any test
}

// A guestReport is everything one guest said on its tests' port.
type guestReport struct {
	Release  string
	Machine  string // uname -m
	Booted   bool
	Done     bool
	Packages []pkgRun
	Notes    []string // module notes, failed insmods, the kernel's module requests
}

// parseGuest reads the guest's output: the "@@harness" markers of its /init
// and, between "run" and "exit", a test binary's -test.v output.
func parseGuest(out string) guestReport {
	var g guestParser
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if rest, ok := strings.CutPrefix(line, "@@harness "); ok {
			g.harnessLine(rest)
			continue
		}
		if g.cur != nil {
			g.testLine(line)
		}
	}
	return g.r
}

// guestParser is parseGuest's state between lines.
type guestParser struct {
	r      guestReport
	cur    *pkgRun             // the package running, nil between packages
	test   string              // the test the indented lines belong to
	logged map[string][]string // per test of cur, its lines so far
}

// harnessLine reads one of init's own lines: booted, a package's run and
// exit, done, and the notes on modules.
func (g *guestParser) harnessLine(rest string) {
	f := strings.Fields(rest)
	switch {
	case len(f) >= 2 && f[0] == "booted":
		g.r.Booted, g.r.Release = true, f[1]
		if len(f) >= 3 && !strings.Contains(f[2], "=") {
			g.r.Machine = f[2]
		}
	case len(f) >= 2 && f[0] == "run":
		g.r.Packages = append(g.r.Packages, pkgRun{Package: f[1], Exit: -1})
		g.cur, g.test, g.logged = &g.r.Packages[len(g.r.Packages)-1], "", map[string][]string{}
	case len(f) >= 5 && f[0] == "exit" && g.cur != nil && f[1] == g.cur.Package:
		g.cur.Finished = true
		g.cur.Exit, _ = strconv.Atoi(f[2])
		t0, _ := strconv.ParseFloat(f[3], 64)
		t1, _ := strconv.ParseFloat(f[4], 64)
		g.cur.Seconds = t1 - t0
		g.cur = nil
	case len(f) >= 1 && f[0] == "done":
		g.r.Done = true
	case len(f) >= 2 && (f[0] == "module-note" || f[0] == "module-failed" || f[0] == "modprobe-request" || f[0] == "hook-not-held"):
		g.r.Notes = append(g.r.Notes, rest)
	}
}

// testLine reads one line of the running package's go test -v output: a
// test starting, its result, its log, or a crash.
func (g *guestParser) testLine(line string) {
	trimmed := strings.TrimLeft(line, " ")
	if name, ok := testEvent(line, "=== RUN", "=== CONT", "=== NAME", "=== PAUSE"); ok {
		g.test = name
		return
	}
	if strings.HasPrefix(trimmed, "--- ") {
		status, rest, _ := strings.Cut(strings.TrimPrefix(trimmed, "--- "), ": ")
		name, _, _ := strings.Cut(rest, " ")
		if status == "PASS" || status == "FAIL" || status == "SKIP" {
			g.cur.Tests = append(g.cur.Tests, testResult{Name: name, Status: status, Messages: g.logged[name]})
		}
		return
	}
	if strings.HasPrefix(line, "    ") && g.test != "" {
		g.logged[g.test] = append(g.logged[g.test], strings.TrimSpace(line))
		return
	}
	if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
		g.cur.Crash = append(g.cur.Crash, line)
	}
}

// testEvent reads "=== RUN   TestName" style lines.
func testEvent(line string, prefixes ...string) (string, bool) {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(line, p+" "); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// counts are a package's passed, failed and skipped tests. A test with
// subtests is counted through them (it passes when they do, and fails when
// one does), except a failure of its own: one that none of its subtests
// had.
func (p pkgRun) counts() (pass, fail, skip int) {
	hasChild := map[string]bool{}
	childFailed := map[string]bool{}
	for _, t := range p.Tests {
		for parent := t.Name; strings.Contains(parent, "/"); {
			parent = parent[:strings.LastIndex(parent, "/")]
			hasChild[parent] = true
			if t.Status == "FAIL" {
				childFailed[parent] = true
			}
		}
	}
	for _, t := range p.Tests {
		switch {
		case t.Status == "FAIL" && !childFailed[t.Name]:
			fail++
		case hasChild[t.Name]:
		case t.Status == "PASS":
			pass++
		case t.Status == "SKIP":
			skip++
		}
	}
	return pass, fail, skip
}

// failed tells whether the package failed: a failed test, a non-zero exit
// or a run the guest did not finish.
func (p pkgRun) failed() bool {
	_, fail, _ := p.counts()
	return fail > 0 || !p.Finished || p.Exit != 0
}

// skipReason is what a skipped test said last: the message of its t.Skip.
func (t testResult) skipReason() string {
	if len(t.Messages) == 0 {
		return "(no message)"
	}
	return t.Messages[len(t.Messages)-1]
}
