// SPDX-License-Identifier: Apache-2.0

package sandbox

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
