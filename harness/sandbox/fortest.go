// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"net/netip"
	"os/exec"
)

// TB is the part of testing.TB that NewForTest uses. Naming it here keeps
// the testing package out of the commands built on this package
// (cmd/tcpdrop-flood), which are not tests.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// NewForTest makes a namespace for a test or benchmark, which fails if it
// cannot, and closes it when the test ends.
func NewForTest(t TB) *Netns {
	t.Helper()
	n, err := New()
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// ListenInChildForTest is ListenInChild for a test, which fails if it
// cannot; the child is killed when the test ends.
func (n *Netns) ListenInChildForTest(t TB, addr string, backlog int, cgroupDir string) (*exec.Cmd, netip.AddrPort) {
	t.Helper()
	cmd, local, err := n.ListenInChild(netip.MustParseAddrPort(addr), backlog, cgroupDir)
	if err != nil {
		t.Fatalf("sandbox: a listener in a child: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, local
}
