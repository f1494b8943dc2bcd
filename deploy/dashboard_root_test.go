// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/backends"
	"github.com/tcpdrop/tcpdrop/harness/collector"
	"github.com/tcpdrop/tcpdrop/harness/grafana"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/hostname"
)

// The panels whose numbers the test knows exactly (by title in
// deploy/grafana/tcp_drop.json).
const (
	panelDropTotals     = "Drops since the collector started, by reason and owner"
	panelOverflowTotals = "Listen overflows since the collector started"
	overflowReason      = "TCP_LISTEN_OVERFLOW"
)

// dashboardRateInterval is what Grafana makes $__rate_interval with a
// Prometheus data source's default 15s scrape interval: 4 of them.
const dashboardRateInterval = "1m"

// TestBackendsDashboard makes real drops through the collector into a real
// Prometheus (deploy/prometheus/prometheus.yml) and evaluates every query
// of the Grafana dashboard (deploy/grafana/tcp_drop.json) on it, with the
// dashboard's variables set as Grafana sets them (the node variable from
// its own query): each returns data, and the panels of exact totals show
// for this test's owner the kernel's own counts: the nft rule's counter
// for the firewalled SYNs, TcpExtListenOverflows of the test's namespace
// for the listen overflows.
func TestBackendsDashboard(t *testing.T) {
	roottest.Require(t)
	bins := backends.BinariesForTest(t)
	root := collector.RootForTest(t)
	dash, err := grafana.Load(filepath.Join(root, "deploy", "grafana", "tcp_drop.json"))
	require.NoError(t, err)

	prom := backends.PrometheusForTest(t, bins.Prometheus, filepath.Join(root, "deploy", "prometheus", "prometheus.yml"))
	start := time.Now()
	otelcol := collector.ForTest(t, collector.BinaryForTest(t), []byte(fmt.Sprintf(dashboardCollectorConfig, prom.OTLPMetricsURL())))
	waitFor(t, 60*time.Second, func() (bool, string) {
		s, err := prom.Query("tcp_drop_events_lost_total")
		return err == nil && len(s) > 0, fmt.Sprintf("no tcp_drop_events_lost_total in Prometheus yet (%v)", err)
	})

	// Made after the collector's first poll, the namespace's overflows
	// count from its creation.
	ns := sandbox.NewForTest(t)
	require.NoError(t, ns.ConnectRefused(netip.MustParseAddrPort("127.0.0.1:9"), 5)) // drops no process owns
	rule := firewalled(t, ns)
	require.NoError(t, ns.ConnectTimeout(rule.addr, 7, 50*time.Millisecond))
	overflowing := overflowingListener(t, prom, ns)
	netstat, err := ns.Netstat()
	require.NoError(t, err)
	overflows := netstat["TcpExt:ListenOverflows"]
	require.Positive(t, overflows, "the listener overflowed")
	t.Logf("nft rule: %d SYNs dropped; listener %v: %d overflows (TcpExtListenOverflows)", rule.packets(t), overflowing, overflows)

	host, err := hostname.Node() // the collector's host.name
	require.NoError(t, err)
	hosts := variableValues(t, prom, dash.Variable("host"))
	require.Contains(t, hosts, host, "the node variable's query offers this node")
	// A multi-value variable's value, escaped as Grafana escapes it: the
	// regex's backslashes doubled inside PromQL's string.
	values := map[string]string{"host": strings.ReplaceAll(regexp.QuoteMeta(host), `\`, `\\`), "__rate_interval": dashboardRateInterval}
	pid := strconv.Itoa(os.Getpid())
	mine := func(s backends.Sample) bool {
		return s.Labels["process_pid"] == pid && s.Labels["host_name"] == host
	}

	// The exact panels: wait until the last counts have arrived. The
	// firewalled SYNs' reason is whatever this kernel names drops in
	// nft_do_chain; the collector reports it.
	dropTotals := panelQuery(t, dash, panelDropTotals, values)
	overflowTotals := panelQuery(t, dash, panelOverflowTotals, values)
	nftReason := fmt.Sprintf(`sum by (tcp_drop_reason) (tcp_drop_packets_total{process_pid=%q, tcp_drop_kernel_function="nft_do_chain"})`, pid)
	waitFor(t, 60*time.Second, func() (bool, string) {
		reasons, err := prom.Query(nftReason)
		if err != nil || len(reasons) != 1 {
			return false, fmt.Sprintf("%s: %v %v, want one reason", nftReason, reasons, err)
		}
		firewalledReason := reasons[0].Labels["tcp_drop_reason"]
		drops, err := prom.Query(dropTotals)
		if err != nil {
			return false, err.Error()
		}
		over, err := prom.Query(overflowTotals)
		if err != nil {
			return false, err.Error()
		}
		byReason := map[string]float64{}
		for _, s := range drops {
			if mine(s) && s.Labels["tcp_drop_owner"] == "process" {
				byReason[s.Labels["tcp_drop_reason"]] += s.Value
			}
		}
		overflowGot := 0.0
		for _, s := range over {
			if mine(s) {
				overflowGot += s.Value
			}
		}
		return byReason[firewalledReason] == float64(rule.packets(t)) && byReason[overflowReason] == float64(overflows) &&
				overflowGot == float64(overflows),
			fmt.Sprintf("%q: this test's drops by reason %v, want %d %s (the nft rule's counter) and %d %s; %q: %v, want %d",
				panelDropTotals, byReason, rule.packets(t), firewalledReason, overflows, overflowReason,
				panelOverflowTotals, overflowGot, overflows)
	})
	t.Logf("%q and %q for this test's owner: the nft rule's counter and TcpExtListenOverflows exactly", panelDropTotals, panelOverflowTotals)

	// Every query of every panel returns data, over the test's time
	// range for a graph, at its end for a table (a rate needs two
	// samples of a series in its window: it may take a few collections).
	for _, p := range dash.Panels() {
		for _, tg := range p.Targets {
			expr, err := grafana.Expand(tg.Expr, values)
			require.NoError(t, err)
			n := 0
			waitFor(t, 30*time.Second, func() (bool, string) {
				n = countSeries(t, prom, expr, tg.Instant, start)
				return n > 0, fmt.Sprintf("panel %q, query %s returns no data: %s", p.Title, tg.RefID, expr)
			})
			t.Logf("panel %q, query %s: %d series", p.Title, tg.RefID, n)
		}
	}
	_, err = otelcol.Stop(maxExitTime)
	require.NoError(t, err, "the collector exits cleanly on SIGTERM")
}

// dashboardCollectorConfig exports the metrics to Prometheus every second.
const dashboardCollectorConfig = `receivers:
  tcp_drop:
    collection_interval: 1s
exporters:
  otlp_http:
    metrics_endpoint: %s
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [tcp_drop]
      exporters: [otlp_http]
`

// overflowingListener listens in ns, as this process, with a backlog of 1
// and accepts nothing; connects fill its queue and overflow it, and their
// SYNs, retransmitted once, overflow it again, until they give up.
func overflowingListener(t *testing.T, prom *backends.Prometheus, ns *sandbox.Netns) netip.AddrPort {
	fd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 1)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	addr, err := sandbox.LocalAddr(fd)
	require.NoError(t, err)
	// The collector names the owner of a listener it has seen: once its
	// queue limit is in Prometheus under this process.
	limit := fmt.Sprintf(`tcp_drop_listen_queue_limit{process_pid="%d",network_local_port="%d",tcp_drop_netns_inode="%d"}`,
		os.Getpid(), addr.Port(), ns.Inode())
	waitFor(t, 30*time.Second, func() (bool, string) {
		s, err := prom.Query(limit)
		return err == nil && len(s) > 0, fmt.Sprintf("not in Prometheus: %s (%v)", limit, err)
	})
	fds, err := ns.StartConnects(addr, 8)
	require.NoError(t, err)
	// TCP_SYNCNT 1: a SYN is retransmitted once, after 1s, then the
	// connect fails after another 2s; the kernel's count is then final.
	// Time is the condition: the kernel's retransmission timers.
	time.Sleep(4 * time.Second)
	for _, fd := range fds {
		unix.Close(fd)
	}
	return addr
}

// variableValues evaluates a query variable as Grafana does:
// label_values(metric, label) lists the label's values on metric's series.
func variableValues(t *testing.T, prom *backends.Prometheus, v *grafana.Variable) []string {
	t.Helper()
	require.NotNil(t, v)
	m := regexp.MustCompile(`^label_values\((\w+),\s*(\w+)\)$`).FindStringSubmatch(v.Query)
	require.NotNil(t, m, "variable %q: %q is not label_values(metric, label)", v.Name, v.Query)
	var values []string
	require.NoError(t, prom.Get("/api/v1/label/"+m[2]+"/values", url.Values{"match[]": {m[1]}}, &values))
	slices.Sort(values)
	return values
}

// panelQuery is the only query of the panel titled title, its variables
// set to values.
func panelQuery(t *testing.T, d *grafana.Dashboard, title string, values map[string]string) string {
	t.Helper()
	for _, p := range d.Panels() {
		if p.Title == title {
			require.Len(t, p.Targets, 1, "panel %q", title)
			expr, err := grafana.Expand(p.Targets[0].Expr, values)
			require.NoError(t, err)
			return expr
		}
	}
	t.Fatalf("no panel %q in the dashboard", title)
	return ""
}

// countSeries evaluates expr as a panel does, at the end of its time range
// (now) if instant, else over the range from start, and returns how many
// series have points.
func countSeries(t *testing.T, prom *backends.Prometheus, expr string, instant bool, start time.Time) int {
	t.Helper()
	if instant {
		s, err := prom.Query(expr)
		require.NoError(t, err, expr)
		return len(s)
	}
	var data struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	params := url.Values{
		"query": {expr},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {strconv.FormatInt(time.Now().Unix()+1, 10)},
		"step":  {"2"},
	}
	require.NoError(t, prom.Get("/api/v1/query_range", params, &data), expr)
	n := 0
	for _, r := range data.Result {
		if len(r.Values) > 0 {
			n++
		}
	}
	return n
}
