// SPDX-License-Identifier: Apache-2.0

package ociimage

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
)

// EnvImage names the image archive TestImageAttaches runs: make
// test-kernels puts the one make image-archive wrote into every guest.
const EnvImage = "TCPDROP_IMAGE"

// TestImageAttaches runs this architecture's image out of the archive (as
// a container runtime would: its files in a folder of their own, with /proc
// and /sys mounted in, its entrypoint and command run chrooted there, as
// root) where no container runtime is: in the arm64 and amd64 guests. The
// collector must load its program, attach it to kfree_skb (it logs so) and
// stay up.
func TestImageAttaches(t *testing.T) {
	archive := os.Getenv(EnvImage)
	if archive == "" {
		t.Skipf("%s names no image archive (make image-archive writes _build/image/otelcol-tcpdrop.tar; make test-kernels runs this test in its guests)", EnvImage)
	}
	roottest.Require(t)
	c, err := Files(archive, runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, f := range c.Files {
		path := filepath.Join(root, f.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f.Data, os.FileMode(f.Mode)); err != nil {
			t.Fatal(err)
		}
	}
	// What a container gets from its runtime: /etc/hosts (the collector's
	// own telemetry listens on localhost), /proc, /sys (deploy/'s DaemonSet
	// mounts the host's, for BTF) and a /tmp.
	if err := os.WriteFile(filepath.Join(root, "etc", "hosts"), []byte("127.0.0.1 localhost\n::1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		source, target, fstype string
		flags                  uintptr
	}{
		{"proc", "proc", "proc", 0},
		{"/sys", "sys", "", unix.MS_BIND | unix.MS_REC},
		{"tmpfs", "tmp", "tmpfs", 0},
	} {
		target := filepath.Join(root, m.target)
		if err := os.MkdirAll(target, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount(m.source, target, m.fstype, m.flags, ""); err != nil {
			t.Fatalf("mount %s on %s: %v", m.source, target, err)
		}
		t.Cleanup(func() { _ = unix.Unmount(target, unix.MNT_DETACH) })
	}

	// The image's config logs warnings only: the one more argument makes
	// the collector say when its program is attached, as a Pod's args can.
	args := append(append(c.Entrypoint[1:], c.Cmd...), "--set=service::telemetry::logs::level=info")
	var out syncBuffer
	cmd := exec.Command(c.Entrypoint[0], args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = "/", []string{}, &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s in %s: %v", c.Entrypoint[0], c.Tag, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited //nolint:errcheck // killed: its status says only that
		if t.Failed() {
			t.Logf("the collector's output:\n%s", out.String())
		}
	}()
	const attached = "tcp_drop: attached to the kfree_skb tracepoint"
	deadline := time.Now().Add(2 * time.Minute) // the collector starts in ~7 s in an emulated arm64 guest
	for !strings.Contains(out.String(), attached) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s (%s) exited before it attached its program: %v", c.Tag, runtime.GOARCH, err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (%s): no %q after 2 minutes", c.Tag, runtime.GOARCH, attached)
		}
	}
	t.Logf("%s (%s, %s %s): attached its program", c.Tag, runtime.GOARCH, c.Entrypoint[0], strings.Join(c.Cmd, " "))
	select {
	case err := <-exited:
		exited <- err
		t.Fatalf("the collector exited after it attached: %v", err)
	case <-time.After(2 * time.Second):
	}
}

// syncBuffer is a bytes.Buffer the collector's output goroutines and the
// test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
