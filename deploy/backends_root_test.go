// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/backends"
	"github.com/tcpdrop/tcpdrop/harness/collector"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/hostname"
)

// settleTime is how long a reading must stay the same to be final: more
// than two collections (collection_interval below), a listen-queue poll
// and a LogsQL flush.
const settleTime = 3 * time.Second

// backendsConfig is the example configuration with its Prometheus and
// VictoriaLogs exporters switched on, as README says, pointed at this
// test's servers, and its prometheus exporter serving scrapes on
// scrapePort; the counts are collected every second instead of 10s and the
// listen queues polled every 200ms, so that the test waits less.
func backendsConfig(t *testing.T, metricsURL, logsURL string, scrapePort int) []byte {
	var cfg map[string]any
	b, err := os.ReadFile(filepath.Join(collector.RootForTest(t), "otelcol-config.example.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &cfg))
	receiver := dig(cfg, "receivers", "tcp_drop").(map[string]any)
	receiver["collection_interval"] = "1s"
	receiver["log_records_per_key"] = 0 // a record per drop: the test counts them
	receiver["listen_queues"].(map[string]any)["poll_interval"] = "200ms"
	dig(cfg, "exporters", "otlp_http/prometheus").(map[string]any)["metrics_endpoint"] = metricsURL
	dig(cfg, "exporters", "otlp_http/victorialogs").(map[string]any)["logs_endpoint"] = logsURL
	dig(cfg, "service", "pipelines", "logs").(map[string]any)["exporters"] = []any{"otlp_http/victorialogs"}
	dig(cfg, "exporters", "prometheus").(map[string]any)["endpoint"] = fmt.Sprintf("127.0.0.1:%d", scrapePort)
	dig(cfg, "service", "pipelines", "metrics").(map[string]any)["exporters"] = []any{"otlp_http/prometheus", "prometheus"}
	// No port of its own for the collector's telemetry (8888 may be taken).
	dig(cfg, "service", "telemetry").(map[string]any)["metrics"] = map[string]any{"level": "none"}
	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	return out
}

// TestBackends runs the collector with the example configuration into a
// real Prometheus (deploy/prometheus/prometheus.yml, unchanged, with its
// alert rules) and a real VictoriaLogs, makes drops in network namespaces
// of its own - SYNs to closed ports, SYNs an nft rule drops on their way
// to a listener this test holds, connections into full accept queues; IPv4
// and IPv6 - and finds through PromQL and LogsQL the numbers the kernel
// counted: tcp_drop_packets_total of the drops' reason, function and owner
// grows by the connects refused and by the nft rules' counters, its
// TCP_LISTEN_OVERFLOW series equals TcpExtListenOverflows, each drop is one
// record searchable by reason, function and owner, no event is lost, and
// Prometheus fires the overflow alert.
func TestBackends(t *testing.T) {
	roottest.Require(t)
	if os.Getenv("TCPDROP_COLLECTOR") != "" {
		t.Skip("the host's test: make test-backends runs it with the real backends")
	}
	bins := backends.BinariesForTest(t)
	reasons, err := dropreason.FromKernel()
	require.NoError(t, err)
	// The host's kernel (CI's, 6.x) names them; kernels before 5.17 do
	// not (make test-kernels tests those, without backends).
	for _, r := range []string{"NO_SOCKET", "NETFILTER_DROP"} {
		if _, ok := reasons.Value(r); !ok {
			t.Fatalf("the running kernel has no drop reason %s (it has drop reasons: %v)", r, reasons.Available())
		}
	}
	root := collector.RootForTest(t)

	prom := backends.PrometheusForTest(t, bins.Prometheus, filepath.Join(root, "deploy", "prometheus", "prometheus.yml"))
	logs := backends.VictoriaLogsForTest(t, bins.VictoriaLogs)
	host, err := hostname.Node()
	require.NoError(t, err)
	b := &backendsUnderTest{prom: prom, logs: logs, host: host, node: fmt.Sprintf("host_name=%q", host), scrapePort: freePort(t)}

	// The subtests' sandboxes are held only by this process's descriptors.
	// Holding one before the collector starts makes this process one it
	// rescans often (internal/listeners: fdScanShare), as it would a
	// container runtime's, so each new sandbox is found within seconds,
	// not at the next scan of every process's descriptors.
	sandbox.NewForTest(t)
	config := backendsConfig(t, prom.OTLPMetricsURL(), logs.OTLPLogsURL(), b.scrapePort)
	otelcol := collector.ForTest(t, collector.BinaryForTest(t), config)
	waitFor(t, 60*time.Second, func() (bool, string) {
		_, ok := b.promValue(t, `tcp_drop_events_lost_total{`+b.node+`}`)
		return ok, "no tcp_drop_events_lost_total for host.name " + host + " in Prometheus"
	})

	t.Run("closed port", b.closedPorts)
	t.Run("nft drop", b.firewalled)
	t.Run("listen overflow", b.overflows)

	for _, name := range []string{"tcp_drop_events_lost_total", "tcp_drop_events_shed_total"} {
		v, ok := b.promValue(t, name+`{`+b.node+`}`)
		require.True(t, ok, name)
		require.Zero(t, v, "%s: every drop has its record", name)
	}
	took, err := otelcol.Stop(maxExitTime)
	require.NoError(t, err, "the collector exits cleanly on SIGTERM")
	t.Logf("the collector exited %v after SIGTERM", took.Round(time.Millisecond))
}

// backendsUnderTest holds what TestBackends' steps query.
type backendsUnderTest struct {
	prom *backends.Prometheus
	logs *backends.VictoriaLogs
	host string // host.name
	node string // the PromQL matcher of this node's series

	scrapePort int // the collector's prometheus exporter
}

// promValue is the value of a PromQL expression that gives at most one
// sample; false when it gives none.
func (b *backendsUnderTest) promValue(t *testing.T, expr string) (float64, bool) {
	samples, err := b.prom.Query(expr)
	require.NoError(t, err)
	require.LessOrEqual(t, len(samples), 1, "%s: %v", expr, samples)
	if len(samples) == 0 {
		return 0, false
	}
	return samples[0].Value, true
}

// packets is tcp_drop_packets_total summed over the series matchers
// select on this node (0 when there are none).
func (b *backendsUnderTest) packets(t *testing.T, matchers string) int64 {
	v, _ := b.promValue(t, `sum(tcp_drop_packets_total{`+b.node+`,`+matchers+`})`)
	return int64(v)
}

func (b *backendsUnderTest) count(t *testing.T, filter string) int64 {
	n, err := b.logs.Count(filter)
	require.NoError(t, err)
	return int64(n)
}

// settled returns read's value once it has stayed the same for settleTime
// and done says it is complete, or fails the test after limit.
func settled[T comparable](t *testing.T, limit time.Duration, read func() T, done func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(limit)
	last, since := read(), time.Now()
	for {
		time.Sleep(250 * time.Millisecond)
		now := read()
		if now != last {
			last, since = now, time.Now()
		}
		if done(last) && time.Since(since) >= settleTime {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: still %+v", limit, last)
		}
	}
}

// closedPorts: connects to a port nobody listens on, refused. The series
// of their reason, function and owner (NO_SOCKET, tcp_v4_rcv or tcp_v6_rcv,
// none) is the whole node's: it grows by the connects, plus any such drop
// elsewhere on the node meanwhile, which has its record too.
func (b *backendsUnderTest) closedPorts(t *testing.T) {
	ns := sandbox.NewForTest(t)
	const connects = 12
	for _, tc := range []struct{ addr, function string }{
		{"127.0.0.1:9", "tcp_v4_rcv"},
		{"[::1]:9", "tcp_v6_rcv"},
	} {
		t.Run(tc.function, func(t *testing.T) {
			addr := netip.MustParseAddrPort(tc.addr)
			if addr.Addr().Is6() && !ns.HasIPv6() {
				t.Skip("no IPv6 in this kernel")
			}
			cause := fmt.Sprintf(`tcp_drop_owner="none",tcp_drop_reason="NO_SOCKET",tcp_drop_kernel_function=%q`, tc.function)
			records := fmt.Sprintf(`tcp_drop.owner:=none tcp_drop.reason:=NO_SOCKET tcp_drop.kernel_function:=%s`, tc.function)
			ours := fmt.Sprintf(`%s tcp_drop.netns.inode:=%d destination.port:=%d`, records, ns.Inode(), addr.Port())
			elsewhere := fmt.Sprintf(`%s -tcp_drop.netns.inode:=%d`, records, ns.Inode())
			type reading struct{ packets, ours, elsewhere int64 }
			read := func() reading {
				return reading{b.packets(t, cause), b.count(t, ours), b.count(t, elsewhere)}
			}
			before := settled(t, time.Minute, read, func(reading) bool { return true })
			rsts := netstat(t, ns, "Tcp:OutRsts")

			require.NoError(t, ns.ConnectRefused(addr, connects))
			require.Equal(t, uint64(connects), netstat(t, ns, "Tcp:OutRsts")-rsts, "the kernel refused each connect once")
			after := settled(t, time.Minute, read, func(r reading) bool { return r.ours-before.ours >= connects })

			require.Equal(t, int64(connects), after.ours-before.ours, "one record per refused connect, in VictoriaLogs")
			foreign := after.elsewhere - before.elsewhere
			require.Equal(t, connects+foreign, after.packets-before.packets,
				"tcp_drop_packets_total{%s} grew by the connects refused (%d) and the drops elsewhere on the node meanwhile (%d)", cause, connects, foreign)
			t.Logf("%v: %d connects refused; tcp_drop_packets_total{%s} %d -> %d, %d other such drops on the node", addr, connects, cause, before.packets, after.packets, foreign)
		})
	}
}

// firewalled: SYNs an nft rule drops on their way to a listener this test
// holds. This process owns them: tcp_drop_packets_total of its pid for
// NETFILTER_DROP in nft_do_chain equals the rules' counters.
func (b *backendsUnderTest) firewalled(t *testing.T) {
	ns := sandbox.NewForTest(t)
	pid := os.Getpid()
	cause := fmt.Sprintf(`process_pid="%d",tcp_drop_owner="process",tcp_drop_reason="NETFILTER_DROP",tcp_drop_kernel_function="nft_do_chain"`, pid)
	records := fmt.Sprintf(`process.pid:=%d tcp_drop.owner:=process tcp_drop.reason:=NETFILTER_DROP tcp_drop.kernel_function:=nft_do_chain`, pid)
	var dropped uint64 // by the rules so far
	for _, listen := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(listen, func(t *testing.T) {
			if listen[0] == '[' && !ns.HasIPv6() {
				t.Skip("no IPv6 in this kernel")
			}
			fd, err := ns.Listen(netip.MustParseAddrPort(listen), 16)
			require.NoError(t, err)
			t.Cleanup(func() { unix.Close(fd) })
			addr, err := sandbox.LocalAddr(fd)
			require.NoError(t, err)
			b.waitForListener(t, ns, addr, pid)
			rule, err := ns.DropTCPPort(addr.Port())
			require.NoError(t, err)

			require.NoError(t, ns.ConnectTimeout(addr, 10, 50*time.Millisecond))
			n, err := rule.Packets()
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, uint64(10), "the rule dropped every SYN")
			dropped += n

			ours := fmt.Sprintf(`tcp_drop.netns.inode:=%d destination.port:=%d`, ns.Inode(), addr.Port())
			type reading struct{ packets, ours, searched int64 }
			got := settled(t, time.Minute, func() reading {
				return reading{b.packets(t, cause), b.count(t, ours), b.count(t, records)}
			}, func(r reading) bool { return r.packets >= int64(dropped) && r.ours >= int64(n) })
			require.Equal(t, int64(dropped), got.packets, "tcp_drop_packets_total{%s} = the nft rules' counters", cause)
			require.Equal(t, int64(n), got.ours, "one record per packet the rule dropped, in VictoriaLogs")
			require.Equal(t, int64(dropped), got.searched, "the records found by owner, reason and function: %s", records)
			t.Logf("%v: nft counter %d (%d in all); tcp_drop_packets_total{%s} %d; records %d", addr, n, dropped, cause, got.packets, got.ours)
		})
	}

	// Scraped instead (the prometheus exporter): the same name, labels
	// and count.
	scraped := scrapedSum(t, b.scrapePort, "tcp_drop_packets_total", map[string]string{"host_name": b.host,
		"process_pid": strconv.Itoa(pid), "tcp_drop_owner": "process", "tcp_drop_reason": "NETFILTER_DROP", "tcp_drop_kernel_function": "nft_do_chain"})
	require.Equal(t, float64(dropped), scraped, "tcp_drop_packets_total{%s} as the prometheus exporter serves it", cause)

	// The records' log stream is the node (and container, which this
	// process has none of), as the example's VL-Stream-Fields header says;
	// the owner is a field.
	rows, err := b.logs.Query(records + " | limit 1")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, fmt.Sprintf("{host.name=%q}", b.host), rows[0]["_stream"])
	require.Equal(t, strconv.Itoa(pid), rows[0]["process.pid"])
}

// scrapedSum is the sum of the samples of metric name a Prometheus text
// exposition on port serves that have (at least) the given labels.
func scrapedSum(t *testing.T, port int, name string, labels map[string]string) float64 {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		series, value, ok := strings.Cut(line, "} ")
		if !ok || !strings.HasPrefix(series, name+"{") {
			continue
		}
		matches := true
		for k, v := range labels {
			matches = matches && strings.Contains(series+",", fmt.Sprintf("%s=%q,", k, v))
		}
		if matches {
			f, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
			require.NoError(t, err, line)
			sum += f
		}
	}
	return sum
}

// waitForListener waits until Prometheus has the listener's queue limit
// under its owner pid: from then on the collector knows who owns it.
func (b *backendsUnderTest) waitForListener(t *testing.T, ns *sandbox.Netns, addr netip.AddrPort, pid int) {
	t.Helper()
	expr := fmt.Sprintf(`tcp_drop_listen_queue_limit{%s,process_pid="%d",network_local_port="%d",tcp_drop_netns_inode="%d"}`,
		b.node, pid, addr.Port(), ns.Inode())
	waitFor(t, 30*time.Second, func() (bool, string) {
		_, ok := b.promValue(t, expr)
		return ok, "not in Prometheus: " + expr
	})
}

// overflows: a server with a backlog of 1 that never accepts is sent 8
// connections at once, over IPv4 and IPv6, in a namespace of its own (its
// counters start at zero). tcp_drop_packets_total of this process for
// TCP_LISTEN_OVERFLOW equals the namespace's TcpExtListenOverflows, the
// overflow records' counts add up to it, and Prometheus fires the
// overflow alert of tcp_drop.rules.yaml for this process on this node.
func (b *backendsUnderTest) overflows(t *testing.T) {
	ns := sandbox.NewForTest(t)
	pid := os.Getpid()
	cause := fmt.Sprintf(`process_pid="%d",tcp_drop_reason="TCP_LISTEN_OVERFLOW"`, pid)
	records := fmt.Sprintf(`tcp_drop.netns.inode:=%d process.pid:=%d tcp_drop.owner:=process tcp_drop.reason:=TCP_LISTEN_OVERFLOW`, ns.Inode(), pid)
	for _, listen := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(listen, func(t *testing.T) {
			if listen[0] == '[' && !ns.HasIPv6() {
				t.Skip("no IPv6 in this kernel")
			}
			fd, err := ns.Listen(netip.MustParseAddrPort(listen), 1)
			require.NoError(t, err)
			t.Cleanup(func() { unix.Close(fd) })
			addr, err := sandbox.LocalAddr(fd)
			require.NoError(t, err)
			b.waitForListener(t, ns, addr, pid)

			clients, err := ns.StartConnects(addr, 8)
			require.NoError(t, err)
			t.Cleanup(func() { // after the counts are read: closing drops more
				for _, c := range clients {
					unix.Close(c)
				}
			})
			type reading struct{ kernel, packets, records int64 }
			got := settled(t, time.Minute, func() reading {
				return reading{int64(netstat(t, ns, "TcpExt:ListenOverflows")), b.packets(t, cause), b.sum(t, records, "tcp_drop.listen.overflows")}
			}, func(r reading) bool { return r.kernel > 0 && r.packets >= r.kernel && r.records >= r.kernel })
			require.Equal(t, got.kernel, got.packets, "tcp_drop_packets_total{%s} = the namespace's TcpExtListenOverflows", cause)
			require.Equal(t, got.kernel, got.records, "the overflow records' tcp_drop.listen.overflows add up to TcpExtListenOverflows")
			t.Logf("%v: TcpExtListenOverflows %d, tcp_drop_packets_total{%s} %d, in records %d", addr, got.kernel, cause, got.packets, got.records)
		})
	}

	// The rules' overflow alert fires for this process on this node, with
	// the count.
	overflows := b.packets(t, cause)
	var firing backends.Alert
	waitFor(t, 2*time.Minute, func() (bool, string) {
		alerts, err := b.prom.Alerts()
		require.NoError(t, err)
		for _, a := range alerts {
			if a.Labels["alertname"] == "TCPDropListenOverflow" && a.Labels["process_pid"] == strconv.Itoa(pid) && fmt.Sprintf("host_name=%q", a.Labels["host_name"]) == b.node {
				firing = a
				return a.State == "firing", fmt.Sprintf("the alert is %s", a.State)
			}
		}
		return false, fmt.Sprintf("no TCPDropListenOverflow alert for pid %d among %d alerts", pid, len(alerts))
	})
	require.Equal(t, "page", firing.Labels["severity"])
	value, err := strconv.ParseFloat(firing.Value, 64)
	require.NoError(t, err)
	require.Positive(t, value)
	require.LessOrEqual(t, value, float64(overflows)*1.5, "the alert's value is about the overflows (increase() extrapolates)")
	t.Logf("alert %s %s since %v: %s", firing.Labels["alertname"], firing.State, firing.ActiveAt.Format(time.RFC3339), firing.Annotations["summary"])
}

// sum is the sum of a numeric field over the records filter matches.
func (b *backendsUnderTest) sum(t *testing.T, filter, field string) int64 {
	rows, err := b.logs.Query(filter + " | stats sum(" + field + ") as n")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	if rows[0]["n"] == "NaN" {
		return 0
	}
	n, err := strconv.ParseFloat(rows[0]["n"], 64)
	require.NoError(t, err, "%v", rows)
	return int64(n)
}

func netstat(t *testing.T, ns *sandbox.Netns, key string) uint64 {
	t.Helper()
	m, err := ns.Netstat()
	require.NoError(t, err)
	return m[key]
}
