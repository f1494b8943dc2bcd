// SPDX-License-Identifier: Apache-2.0

package backends

// TB is the part of testing.TB the ForTest functions use.
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Failed() bool
	Logf(format string, args ...any)
	Cleanup(func())
}

// BinariesForTest returns the binaries FromEnv names, or skips the test
// with the reason (make test-backends sets them; `make test` skips).
func BinariesForTest(t TB) Binaries {
	t.Helper()
	b, err := FromEnv()
	if err != nil {
		t.Skipf("needs the real backends: %v", err)
	}
	return b
}

// PrometheusForTest starts Prometheus (StartPrometheus) for a test, which
// fails if it cannot; when the test ends it is stopped, and the test fails
// if it did not stop cleanly. A failed test shows the server's log.
func PrometheusForTest(t TB, bin, config string, flags ...string) *Prometheus {
	t.Helper()
	s, err := StartPrometheus(bin, config, flags...)
	if err != nil {
		t.Fatalf("backends: %v", err)
	}
	t.Cleanup(func() { stopForTest(t, s.Log, s.Stop, "prometheus") })
	return s
}

// VictoriaLogsForTest starts VictoriaLogs (StartVictoriaLogs) for a test,
// as PrometheusForTest does Prometheus.
func VictoriaLogsForTest(t TB, bin string, flags ...string) *VictoriaLogs {
	t.Helper()
	s, err := StartVictoriaLogs(bin, flags...)
	if err != nil {
		t.Fatalf("backends: %v", err)
	}
	t.Cleanup(func() { stopForTest(t, s.Log, s.Stop, "victoria-logs") })
	return s
}

func stopForTest(t TB, log func() string, stop func() error, name string) {
	if t.Failed() {
		t.Logf("%s output (end):\n%s", name, log())
	}
	if err := stop(); err != nil {
		t.Errorf("backends: %v", err)
	}
}
