// SPDX-License-Identifier: Apache-2.0

// Package collector runs a built collector (otelcol-tcpdrop) for a test:
// with a configuration of the test's, its output kept in a file, stopped
// with SIGTERM as a node stops it, and killed at the end of the test if it
// is still running.
package collector

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Process is a running collector.
type Process struct {
	Pid    int
	cmd    *exec.Cmd
	log    string        // the file its output goes to
	exited chan struct{} // closed when it has exited
	err    error         // Wait's, once exited is closed
}

// Start runs bin with config, written to dir, and env added to this
// process's environment.
func Start(bin, dir string, config []byte, env ...string) (*Process, error) {
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, config, 0o600); err != nil {
		return nil, err
	}
	log := filepath.Join(dir, "collector.log")
	out, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(bin, "--config", path)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{Pid: cmd.Process.Pid, cmd: cmd, log: log, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// ErrTimeout is Stop's error when the collector did not exit in time.
var ErrTimeout = errors.New("collector: no exit after SIGTERM")

// Stop sends SIGTERM and waits up to within for the collector to exit. It
// returns how long the exit took, and the exit's error (ErrTimeout if
// there was none in time; the collector is then left running).
func (p *Process) Stop(within time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	select {
	case <-p.exited:
		return time.Since(start), p.err
	case <-time.After(within):
		return within, fmt.Errorf("%w within %v", ErrTimeout, within)
	}
}

// Kill ends the collector at once, if it is still running, and waits for it.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Log is the end of the collector's output, at most maxBytes bytes.
func (p *Process) Log(maxBytes int) string {
	b, _ := os.ReadFile(p.log)
	if len(b) > maxBytes {
		b = b[len(b)-maxBytes:]
	}
	return string(b)
}

// TB is the part of testing.TB that ForTest uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Failed() bool
	TempDir() string
	Cleanup(func())
}

// ForTest starts the collector (Start) for a test, which fails if it
// cannot. When the test ends the collector is killed if still running, and
// a failed test shows its configuration and the end of its output.
func ForTest(t TB, bin string, config []byte, env ...string) *Process {
	t.Helper()
	p, err := Start(bin, t.TempDir(), config, env...)
	if err != nil {
		t.Fatalf("collector: %v", err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("collector config:\n%s\ncollector output (end):\n%s", config, p.Log(8000))
		}
	})
	return p
}
