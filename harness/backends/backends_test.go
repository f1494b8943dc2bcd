// SPDX-License-Identifier: Apache-2.0

package backends

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

const testConfig = `
global:
  evaluation_interval: 1s
rule_files: [rules.yaml]
otlp:
  promote_resource_attributes: [host.name, process.pid]
`

const testRules = `
groups:
  - name: test
    rules:
      - alert: Many
        expr: demo_drops_total > 5
`

// TestPrometheus: an OTLP sum pushed as an otlp_http exporter does is
// queried back under Prometheus' name for it, with the promoted Resource
// attributes as labels; an alert rule on it fires; the server stops and
// leaves nothing behind.
func TestPrometheus(t *testing.T) {
	bins := BinariesForTest(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(config, []byte(testConfig), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(testRules), 0o644))
	prom, err := StartPrometheus(bins.Prometheus, config)
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			if err := prom.Stop(); err != nil {
				t.Log(err) // the test failed before its own Stop: that failure is the one to read
			}
		}
	})

	post(t, prom.OTLPMetricsURL(), demoDrops(t, map[string]any{
		"host.name":               "node-1",
		"process.pid":             42,
		"process.executable.name": "web", // not promoted
	}))

	samples, err := prom.Query(`demo_drops_total`)
	require.NoError(t, err)
	require.Len(t, samples, 1)
	require.Equal(t, 7.0, samples[0].Value)
	labels := samples[0].Labels
	require.Equal(t, "node-1", labels["host_name"])
	require.Equal(t, "42", labels["process_pid"])
	require.Equal(t, "NO_SOCKET", labels["demo_reason"])
	require.NotContains(t, labels, "process_executable_name", "not promoted")

	scalar, err := prom.Query(`scalar(sum(demo_drops_total)) * 2`)
	require.NoError(t, err)
	require.Equal(t, []Sample{{Labels: map[string]string{}, Value: 14}}, scalar)
	_, err = prom.Query(`demo_drops_total[5m]`)
	require.ErrorContains(t, err, "matrix")
	_, err = prom.Query(`sum(`)
	require.ErrorContains(t, err, "parse error")

	require.Eventually(t, func() bool {
		alerts, err := prom.Alerts()
		require.NoError(t, err)
		return len(alerts) == 1 && alerts[0].State == "firing" && alerts[0].Labels["alertname"] == "Many" && alerts[0].Value == "7e+00"
	}, 30*time.Second, 200*time.Millisecond, "the alert did not fire")

	requireStops(t, prom.p, prom.Stop)
	stopped = true
}

// TestVictoriaLogs: OTLP log records pushed as an otlp_http exporter does
// are found and counted by their attributes; the server stops and leaves
// nothing behind.
func TestVictoriaLogs(t *testing.T) {
	bins := BinariesForTest(t)
	vl, err := StartVictoriaLogs(bins.VictoriaLogs)
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			if err := vl.Stop(); err != nil {
				t.Log(err) // the test failed before its own Stop: that failure is the one to read
			}
		}
	})

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "node-1")
	records := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i, reason := range []string{"NO_SOCKET", "NO_SOCKET", "NETFILTER_DROP"} {
		lr := records.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
		lr.Body().SetStr("Drop")
		lr.Attributes().PutStr("demo.reason", reason)
		lr.Attributes().PutInt("destination.port", int64(9000+i))
	}
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	post(t, vl.OTLPLogsURL(), body)

	require.Eventually(t, func() bool {
		n, err := vl.Count(`demo.reason:NO_SOCKET`)
		require.NoError(t, err)
		return n == 2
	}, 30*time.Second, 200*time.Millisecond, "the records did not arrive")
	rows, err := vl.Query(`demo.reason:NETFILTER_DROP`)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, "9002", rows[0]["destination.port"])
	require.Equal(t, "node-1", rows[0]["host.name"])
	require.Equal(t, "Drop", rows[0]["_msg"])
	_, err = vl.Query(`| bad pipe (`)
	require.Error(t, err)

	requireStops(t, vl.p, vl.Stop)
	stopped = true
}

// TestStartFails: a server that cannot start is an error with its output,
// and leaves nothing behind.
func TestStartFails(t *testing.T) {
	bins := BinariesForTest(t)
	_, err := StartPrometheus(bins.Prometheus, filepath.Join(t.TempDir(), "missing.yml"))
	require.ErrorContains(t, err, "prometheus exited before it was ready")
	require.ErrorContains(t, err, "missing.yml")
}

func post(t *testing.T, url string, body []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "POST %s", url)
}

// requireStops stops the server and checks that its process and directory
// are gone.
func requireStops(t *testing.T, p *process, stop func() error) {
	t.Helper()
	pid := p.cmd.Process.Pid
	require.NoError(t, stop())
	require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "the server's process is gone")
	_, err := os.Stat(p.dir)
	require.ErrorIs(t, err, os.ErrNotExist, "its directory is removed")
}

// demoDrops is an OTLP/protobuf export of one cumulative sum, demo.drops
// = 7 {demo.reason: NO_SOCKET}, under a Resource with the given attributes.
func demoDrops(t *testing.T, resource map[string]any) []byte {
	t.Helper()
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	require.NoError(t, rm.Resource().Attributes().FromRaw(resource))
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("demo.drops")
	m.SetUnit("{packet}")
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := sum.DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	dp.SetIntValue(7)
	dp.Attributes().PutStr("demo.reason", "NO_SOCKET")
	body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	require.NoError(t, err)
	return body
}
