// SPDX-License-Identifier: Apache-2.0

package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// EnvBinary names a collector built beforehand, used instead of building
// one: make test-kernels' guests have no Go toolchain.
const EnvBinary = "TCPDROP_COLLECTOR"

// buildBound is how long `make build` may take: ocb compiles the whole
// collector, about 2 minutes cold on 2 cores.
const buildBound = 20 * time.Minute

// The build runs once per test binary: its packages' tests all use the
// same collector.
var built struct {
	once sync.Once
	bin  string
	err  error
}

// Binary returns the collector the tests run: $TCPDROP_COLLECTOR when set,
// else _build/otelcol-tcpdrop of the repository, built (or found up to
// date) by `make build`, which rebuilds only when a source changed.
func Binary() (string, error) {
	if bin := os.Getenv(EnvBinary); bin != "" {
		return bin, nil
	}
	built.once.Do(func() { built.bin, built.err = build() })
	return built.bin, built.err
}

// BinaryForTest is Binary for a test, which fails if there is none.
func BinaryForTest(t TB) string {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatalf("collector: %v", err)
	}
	return bin
}

func build() (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildBound)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-C", root, "build")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("make build: %w\n%s", err, out.Bytes())
	}
	return filepath.Join(root, "_build", "otelcol-tcpdrop"), nil
}

// Fataler is the part of testing.TB that RootForTest uses.
type Fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// RootForTest is Root for a test, which fails if there is none.
func RootForTest(t Fataler) string {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Fatalf("collector: %v", err)
	}
	return root
}

// Root is the repository's top directory: the nearest one up from the
// working directory (a test's is its package's) that holds
// builder-config.yaml, ocb's manifest of the collector.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "builder-config.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no builder-config.yaml above the working directory: not in the repository")
		}
		dir = parent
	}
}
