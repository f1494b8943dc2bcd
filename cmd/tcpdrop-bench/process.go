// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// process is a monitor the bench started: the collector or bpftrace.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string        // its stderr
	exited  chan struct{} // closed when it has exited
	waitErr error         // valid once exited is closed
}

// startProcess runs bin with stdout going to out (nil: /dev/null) and
// stderr to logPath. It runs in a process group of its own so that a Ctrl-C
// at the terminal reaches the bench alone, which stops it in order.
func startProcess(name, bin string, args []string, out io.Writer, logPath string) (*process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = out
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second // bounds the copy of a piped stdout after exit
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stop sends sig and waits up to timeout for the exit, then kills.
func (p *process) stop(sig os.Signal, timeout time.Duration) error {
	select {
	case <-p.exited:
		return p.exitError()
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.exited:
		return p.exitError()
	case <-time.After(timeout):
	}
	_ = p.cmd.Process.Kill() // fails only if it has exited meanwhile, which the wait below sees
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
	return fmt.Errorf("%s did not exit within %v of %v; killed", p.name, timeout, sig)
}

func (p *process) exitError() error {
	if p.waitErr != nil {
		return fmt.Errorf("%s: %w", p.name, p.waitErr)
	}
	return nil
}

// logTail is the end of its stderr, for error messages.
func (p *process) logTail() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	data = bytes.TrimSpace(data)
	const maxTail = 2000
	if len(data) > maxTail {
		data = data[len(data)-maxTail:]
	}
	return strings.TrimSpace(string(data))
}

// countingWriter drains a monitor's stdout, as a terminal would, and counts
// what it wrote.
type countingWriter struct {
	bytes, lines atomic.Uint64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.bytes.Add(uint64(len(b)))
	w.lines.Add(uint64(bytes.Count(b, []byte{'\n'})))
	return len(b), nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1. Another
// program could take it before the collector binds it; the collector then
// fails to start and says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("free port: unexpected address %v", ln.Addr())
	}
	return addr.Port, nil
}
