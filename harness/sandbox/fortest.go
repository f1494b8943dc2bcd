package sandbox

import "testing"

// NewForTest makes a namespace for a test or benchmark, which fails if it
// cannot, and closes it when the test ends.
func NewForTest(t testing.TB) *Netns {
	t.Helper()
	n, err := New()
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}
