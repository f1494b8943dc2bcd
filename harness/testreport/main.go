// SPDX-License-Identifier: Apache-2.0

// Command testreport is make test's reader of `go test -json`: it prints
// what plain `go test` prints (a line per package, the output of failed
// tests), then every skipped test with the reason it gave, and exits 1 if
// anything failed.
//
//	go test -json ./... | go run ./harness/testreport
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	r, err := read(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	printSkips(os.Stdout, r.skips)
	if r.failed {
		os.Exit(1)
	}
}

// printSkips lists the skipped tests, grouped by reason: what this run did
// not test, and why.
func printSkips(w io.Writer, skips []skip) {
	if len(skips) == 0 {
		fmt.Fprintln(w, "no test skipped")
		return
	}
	fmt.Fprintf(w, "\n%d tests skipped:\n", len(skips))
	byReason := map[string][]string{}
	var reasons []string
	for _, s := range skips {
		if _, ok := byReason[s.reason]; !ok {
			reasons = append(reasons, s.reason)
		}
		byReason[s.reason] = append(byReason[s.reason], s.pkg+" "+s.test)
	}
	for _, reason := range reasons {
		fmt.Fprintf(w, "  %s\n", reason)
		for _, t := range byReason[reason] {
			fmt.Fprintf(w, "      %s\n", t)
		}
	}
}
