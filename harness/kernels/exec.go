// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

var start = time.Now()

// logf prints progress to stderr, stamped with the seconds since start.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%5.0fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
}

// run runs a command in dir (empty: here) with env added to this process's
// environment and returns its stdout; a failure's error carries the end of
// its stderr.
func run(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(stderr.String(), 3000))
	}
	return stdout.String(), nil
}

func tail(s string, limit int) string {
	s = strings.TrimSpace(s)
	if len(s) > limit {
		s = "..." + s[len(s)-limit:]
	}
	return s
}
