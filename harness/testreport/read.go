// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// event is a line of `go test -json` (cmd/test2json's TestEvent).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// skip is a skipped test and the reason it logged.
type skip struct {
	pkg, test, reason string
}

type result struct {
	failed bool
	skips  []skip
}

// read copies to out what plain go test would print of the events in in,
// and collects the skips.
func read(in io.Reader, out io.Writer) (result, error) {
	var r result
	logged := map[[2]string][]string{} // a test's output lines so far
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// go test prints build errors as text.
			fmt.Fprintln(out, sc.Text())
			continue
		}
		key := [2]string{e.Package, e.Test}
		switch e.Action {
		case "output":
			logged[key] = append(logged[key], e.Output)
		case "build-output": // a package that did not compile
			fmt.Fprint(out, e.Output)
		case "build-fail":
			r.failed = true
		case "skip":
			if e.Test != "" {
				r.skips = append(r.skips, skip{e.Package, e.Test, skipReason(logged[key])})
			}
			delete(logged, key)
		case "fail":
			r.failed = true
			fmt.Fprint(out, strings.Join(logged[key], ""))
			delete(logged, key)
		case "pass":
			if e.Test == "" {
				fmt.Fprintf(out, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
			}
			delete(logged, key)
		}
	}
	return r, sc.Err()
}

// skipReason is the message of t.Skip among a skipped test's output lines:
// the last "file_test.go:N: ..." line, without the file and line.
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if _, msg, ok := strings.Cut(l, ".go:"); ok && !strings.HasPrefix(l, "---") {
			if _, text, ok := strings.Cut(msg, ": "); ok {
				return text
			}
		}
	}
	return "(no reason given)"
}
