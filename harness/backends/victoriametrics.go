// SPDX-License-Identifier: Apache-2.0

package backends

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// EnvVictoriaMetrics names the VictoriaMetrics binary (`make
// victoriametrics` installs it): the renderer of the dashboard's picture,
// whose vmui draws dashboards (Grafana cannot be installed here).
const EnvVictoriaMetrics = "TCPDROP_VICTORIAMETRICS"

// VictoriaMetrics is a running single-node VictoriaMetrics server that takes
// OTLP metrics, names them as Prometheus does, and serves vmui.
type VictoriaMetrics struct {
	URL string // http://127.0.0.1:port
	p   *process
}

// StartVictoriaMetrics runs bin with a storage directory of its own and
// vmui's dashboards from the directory dashboards ("" for none), and waits
// until it is ready (/health). Its OTLP receiver names metrics and labels
// as Prometheus' does (tcp_drop.packets -> tcp_drop_packets_total), so the
// dashboard's PromQL reads them unchanged; queries see samples up to 1s
// old (the default hides the last 30s). flags are added to its command
// line.
func StartVictoriaMetrics(bin, dashboards string, flags ...string) (*VictoriaMetrics, error) {
	dir, err := os.MkdirTemp("", "tcpdrop-victoriametrics-")
	if err != nil {
		return nil, err
	}
	args := func(port int) []string {
		a := []string{
			"-storageDataPath=" + filepath.Join(dir, "data"),
			fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", port),
			"-opentelemetry.usePrometheusNaming",
			"-search.latencyOffset=1s",
		}
		if dashboards != "" {
			a = append(a, "-vmui.customDashboardsPath="+dashboards)
		}
		return append(a, flags...)
	}
	p, err := start("victoria-metrics", dir, bin, args, "/health")
	if err != nil {
		return nil, err
	}
	return &VictoriaMetrics{URL: p.url(), p: p}, nil
}

// OTLPMetricsURL is where an otlp_http exporter sends metrics
// (metrics_endpoint).
func (s *VictoriaMetrics) OTLPMetricsURL() string { return s.URL + "/opentelemetry/v1/metrics" }

// DashboardsURL is vmui's page of the dashboards, showing the last span of
// time.
func (s *VictoriaMetrics) DashboardsURL(span time.Duration) string {
	return fmt.Sprintf("%s/vmui/#/dashboards?g0.range_input=%ds&g0.relative_time=none", s.URL, int(span.Seconds()))
}

// Query evaluates a PromQL (MetricsQL) expression now, through the
// Prometheus query API VictoriaMetrics serves too.
func (s *VictoriaMetrics) Query(expr string) ([]Sample, error) {
	return (&Prometheus{URL: s.URL}).Query(expr)
}

// Stop stops the server and removes its data; see process.stop.
func (s *VictoriaMetrics) Stop() error { return s.p.stop() }

// Log is what the server has printed so far (its end).
func (s *VictoriaMetrics) Log() string { return s.p.logTail() }
