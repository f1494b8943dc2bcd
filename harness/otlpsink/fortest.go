// SPDX-License-Identifier: Apache-2.0

package otlpsink

// TB is the part of testing.TB that ForTest uses (commands use this
// package too, and they do not import testing).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// ForTest starts a Sink over p for a test, which fails if it cannot, and
// stops it when the test ends.
func ForTest(t TB, p Protocol) *Sink {
	t.Helper()
	s, err := StartSink(p)
	if err != nil {
		t.Fatalf("OTLP sink: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
