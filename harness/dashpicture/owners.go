// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// roleEnv, set in a child's environment, makes this program that child: a
// server that owns the listening socket it is given as fd 3.
const roleEnv = "TCPDROP_PICTURE_ROLE"

// The children's roles.
const (
	roleSlow = "slow" // accepts a connection every acceptEvery: its queue overflows under bursts
	roleIdle = "idle" // never accepts (its SYNs are firewalled anyway)
)

const acceptEvery = 1500 * time.Millisecond

// owner is a child process that owns one listening socket: the process
// the collector names for the drops of its port.
type owner struct {
	name  string
	cmd   *exec.Cmd
	stdin io.Closer // the child's stdin: closing it ends the child
}

// startOwner runs this program again as a child named name (its comm:
// process.executable.name), through a symbolic link of that name in dir,
// and hands it the listening socket fd, which this process then closes.
// The child dies with this process.
func startOwner(dir, name, role string, fd int) (*owner, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	link := filepath.Join(dir, name)
	if err := os.Symlink(self, link); err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name+" listener")
	defer f.Close()
	cmd := exec.Command(link)
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// Its stdin is a pipe this process holds: when it closes (stop, or
	// this process exits), the child exits.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &owner{name: name, cmd: cmd, stdin: stdin}, nil
}

// stop ends the child and waits for it.
func (o *owner) stop() {
	_ = o.stdin.Close()
	done := make(chan struct{})
	go func() { _ = o.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = o.cmd.Process.Kill()
		<-done
	}
}

// runOwner is the child's whole life: serve the socket on fd 3 in its role
// until stdin closes.
func runOwner(role string) error {
	l, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		return err
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	switch role {
	case roleIdle:
		select {}
	case roleSlow:
		for {
			c, err := l.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return nil
				}
				return err
			}
			c.Close()
			time.Sleep(acceptEvery)
		}
	}
	return fmt.Errorf("unknown role %q", role)
}
