package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

const modulePath = "github.com/tcpdrop/tcpdrop"

// findRoot walks up from dir to the repository's root: the go.mod of this
// module.
func findRoot(dir string) (string, error) {
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the tcp_drop repository (no go.mod of " + modulePath + " above the working directory)")
		}
		dir = parent
	}
}

// buildBound is how long `make build` may take: ocb compiles the whole
// collector, about 2 minutes cold on 2 cores.
const buildBound = 20 * time.Minute

// buildCollector runs `make build` in root (a no-op when nothing changed)
// and returns the binary's path.
func buildCollector(ctx context.Context, root string) (string, error) {
	bin := filepath.Join(root, "_build", "otelcol-tcpdrop")
	ctx, cancel := context.WithTimeout(ctx, buildBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "-C", root, "build")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, serr := os.Stat(bin); serr != nil {
			return "", fmt.Errorf("the collector %s is missing and 'make build' failed (%v):\n%s", bin, err, tail(out))
		}
		return "", fmt.Errorf("'make build' failed (%v); fix the build, or pass -collector %s to measure the binary as it is:\n%s", err, bin, tail(out))
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("'make build' made no %s: %w", bin, err)
	}
	return bin, nil
}

// checkBinary fails clearly when a -collector binary is not there.
func checkBinary(bin string) error {
	st, err := os.Stat(bin)
	if err != nil {
		return fmt.Errorf("collector binary: %w (run 'make build')", err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("collector binary %s is not an executable file", bin)
	}
	return nil
}

func tail(out []byte) string {
	const max = 3000
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return string(bytes.TrimSpace(out))
}
