// SPDX-License-Identifier: Apache-2.0

package backends

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestVictoriaMetrics: an OTLP sum pushed as an otlp_http exporter does is
// queried back under the name Prometheus gives it, with its Resource
// attributes as labels named as Prometheus names them; vmui serves the
// dashboards of the directory it was given; the server stops and leaves
// nothing behind.
func TestVictoriaMetrics(t *testing.T) {
	bin := os.Getenv(EnvVictoriaMetrics)
	if bin == "" {
		t.Skipf("needs VictoriaMetrics: %s is not set (make victoriametrics installs it; make dashboard-picture sets it)", EnvVictoriaMetrics)
	}
	dashboards := t.TempDir()
	const dashboard = `{"title": "demo", "rows": [{"panels": [{"title": "drops", "expr": ["demo_drops_total"]}]}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dashboards, "demo.json"), []byte(dashboard), 0o644))
	vm, err := StartVictoriaMetrics(bin, dashboards)
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			if err := vm.Stop(); err != nil {
				t.Log(err) // the test failed before its own Stop: that failure is the one to read
			}
		}
	})

	post(t, vm.OTLPMetricsURL(), demoDrops(t, map[string]any{"host.name": "node-1"}))

	var samples []Sample
	// A new series is searchable after a few seconds (10s seen on a
	// fresh server: VictoriaMetrics indexes new series in batches).
	require.Eventually(t, func() bool {
		samples, err = vm.Query(`demo_drops_total`)
		return err == nil && len(samples) == 1
	}, 30*time.Second, 100*time.Millisecond, "demo_drops_total never showed up")
	require.Equal(t, 7.0, samples[0].Value)
	require.Equal(t, "NO_SOCKET", samples[0].Labels["demo_reason"])
	require.Equal(t, "node-1", samples[0].Labels["host_name"])

	resp, err := http.Get(vm.URL + "/vmui/custom-dashboards")
	require.NoError(t, err)
	served, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", served)
	require.Contains(t, string(served), `demo_drops_total`)

	stopped = true
	requireStops(t, vm.p, vm.Stop)
}
