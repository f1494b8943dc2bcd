// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"fmt"
	"maps"
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
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/internal/hostname"
)

// The panels whose numbers the test knows exactly (by title in
// deploy/grafana/tcp_drop.json).
const (
	panelDropTotals     = "Drops since the collector started, by reason and owner"
	panelOverflowTotals = "Listen overflows since the collector started"
	panelResetTotals    = "Resets since the collector started, by reason and owner"
	panelRetransTotals  = "Segments sent again since the collector started, by reason and owner"
	panelConnectTotals  = "Failed connects since the collector started, by error and owner"
	overflowReason      = "TCP_LISTEN_OVERFLOW"
)

// The TCP header's flags, for an nft rule that drops a handshake's last ACK.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// The panel and query that show resets no process owns: before Linux 6.10
// the kernel traces no reset sent without a socket, and it may be empty.
const (
	panelResetsByOwner = "Resets sent by owner"
	queryNotOwned      = "B"
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
// for the listen overflows, for the connections it closed with data
// unread the growth of the namespace's Tcp:OutRsts less its resets to a
// closed port (which no process owns), for the SYNs and SYN-ACKs its
// sockets sent again TcpExt:TCPSynRetrans (split as its sockets' own
// TCP_INFO says), and for its failed connects Tcp:AttemptFails (by the
// error each connect returned).
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
	require.NoError(t, ns.OneHandshakeRetry()) // what is sent again is over in 3s, not the default 63
	abortReason, socketless := abortReasonOnThisKernel(t)
	const refused, aborted, synAcked = 5, 10, 3
	require.NoError(t, ns.ConnectRefused(netip.MustParseAddrPort("127.0.0.1:9"), refused)) // drops and resets no process owns
	aborts := abortedConnections(t, ns, aborted, refused)
	rule := firewalled(t, ns)
	require.NoError(t, ns.ConnectTimeout(rule.addr, 7, 50*time.Millisecond))
	ackRule := synAckRetransmits(t, ns, synAcked)
	overflowing, clients := overflowingListener(t, prom, ns)
	netstat, err := ns.Netstat()
	require.NoError(t, err)
	overflows := netstat["TcpExt:ListenOverflows"]
	require.Positive(t, overflows, "the listener overflowed")
	t.Logf("nft rule: %d SYNs dropped; listener %v: %d overflows (TcpExtListenOverflows)", rule.packets(t), overflowing, overflows)
	wantRetrans := retransmitsByReason(t, netstat, clients.synsAgain, synAcked)
	wantConnects := failedConnectsByError(t, netstat, refused, clients.failed)

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
	resetTotals := panelQuery(t, dash, panelResetTotals, values)
	retransTotals := panelQuery(t, dash, panelRetransTotals, values)
	connectTotals := panelQuery(t, dash, panelConnectTotals, values)
	nftReason := fmt.Sprintf(`sum by (tcp_drop_reason) (tcp_drop_packets_total{process_pid=%q, tcp_drop_kernel_function="nft_do_chain"})`, pid)
	// This test's, in the resets', retransmissions' and failed connects' panels.
	var resetsByReason, retransByReason, connectsByError map[string]float64
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
		if resetsByReason, err = ownedByReason(prom, resetTotals, mine); err != nil {
			return false, err.Error()
		}
		if retransByReason, err = ownedByReason(prom, retransTotals, mine); err != nil {
			return false, err.Error()
		}
		if connectsByError, err = ownedByReason(prom, connectTotals, mine); err != nil {
			return false, err.Error()
		}
		wantResets := map[string]float64{abortReason: float64(aborts)}
		firewalledDrops := rule.packets(t) + packets(t, ackRule)
		return byReason[firewalledReason] == float64(firewalledDrops) && byReason[overflowReason] == float64(overflows) &&
				overflowGot == float64(overflows) && maps.Equal(resetsByReason, wantResets) &&
				maps.Equal(retransByReason, wantRetrans) && maps.Equal(connectsByError, wantConnects),
			fmt.Sprintf("%q: this test's drops by reason %v, want %d %s (the nft rules' counters) and %d %s; %q: %v, want %d; "+
				"%q: this test's resets by reason %v, want %v (Tcp:OutRsts less the resets to a closed port); "+
				"%q: %v, want %v (TcpExt:TCPSynRetrans, Tcp:RetransSegs); %q: %v, want %v (Tcp:AttemptFails)",
				panelDropTotals, byReason, firewalledDrops, firewalledReason, overflows, overflowReason,
				panelOverflowTotals, overflowGot, overflows, panelResetTotals, resetsByReason, wantResets,
				panelRetransTotals, retransByReason, wantRetrans, panelConnectTotals, connectsByError, wantConnects)
	})
	t.Logf("%q, %q and %q for this test's owner: the nft rule's counter, TcpExtListenOverflows and Tcp:OutRsts less the closed port's resets exactly",
		panelDropTotals, panelOverflowTotals, panelResetTotals)
	t.Logf("%q for this test's process: %v = Tcp:OutRsts %d less %d resets to a closed port", panelResetTotals, resetsByReason, aborts+refused, refused)
	t.Logf("%q for this test's process: %v = TcpExt:TCPSynRetrans %d, Tcp:RetransSegs %d", panelRetransTotals, retransByReason,
		netstat["TcpExt:TCPSynRetrans"], netstat["Tcp:RetransSegs"])
	t.Logf("%q for this test's process: %v = Tcp:AttemptFails %d", panelConnectTotals, connectsByError, netstat["Tcp:AttemptFails"])
	if socketless {
		notOwned := fmt.Sprintf(`sum(tcp_drop_resets_total{host_name=%q, tcp_drop_owner="none", tcp_drop_reason="NO_SOCKET"})`, host)
		s, err := prom.Query(notOwned)
		require.NoError(t, err)
		require.Len(t, s, 1, notOwned)
		// The machine's other resets to closed ports are there too.
		require.GreaterOrEqual(t, s[0].Value, float64(refused), "%s: at least this test's resets to a closed port", notOwned)
		t.Logf("%s: %v (this test's %d and the machine's own)", notOwned, s[0].Value, refused)
	}

	// Every query of every panel returns data, over the test's time
	// range for a graph, at its end for a table (a rate needs two
	// samples of a series in its window: it may take a few collections).
	for _, p := range dash.Panels() {
		for _, tg := range p.Targets {
			expr, err := grafana.Expand(tg.Expr, values)
			require.NoError(t, err)
			if !socketless && p.Title == panelResetsByOwner && tg.RefID == queryNotOwned {
				t.Logf("panel %q, query %s: not required to return data: before Linux 6.10 no reset sent without a socket is traced", p.Title, tg.RefID)
				continue
			}
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
// SYNs, sent again once or twice (sandbox.StartConnects), overflow it
// again, until they give up. It returns what the kernel told the
// connects.
func overflowingListener(t *testing.T, prom *backends.Prometheus, ns *sandbox.Netns) (netip.AddrPort, connectsOutcome) {
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
	return addr, outcomeOf(t, fds)
}

// connectsOutcome is what the kernel says of a test's connects: how many
// SYNs they sent again in all, and how many failed with each error.
type connectsOutcome struct {
	synsAgain int
	failed    map[string]int
}

// outcomeOf reads, then closes, the sockets of connects that are over
// (established or failed): each one's SYNs sent again (TCP_INFO's
// tcpi_total_retrans: a client that sent no data sent only SYNs again)
// and its error (SO_ERROR).
func outcomeOf(t *testing.T, fds []int) connectsOutcome {
	t.Helper()
	out := connectsOutcome{failed: map[string]int{}}
	for _, fd := range fds {
		info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		require.NoError(t, err)
		out.synsAgain += int(info.Total_retrans)
		soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		require.NoError(t, err)
		if soerr != 0 {
			out.failed[unix.ErrnoName(syscall.Errno(soerr))]++
		}
		unix.Close(fd)
	}
	return out
}

// synAckRetransmits listens in ns, as this process, and makes count
// connects to it whose handshake ACKs an nft rule drops: each connect
// succeeds, while the listener's request socket never hears of it and
// sends its SYN-ACK again, once (sandbox.Netns.OneHandshakeRetry), then
// drops the request without a word. It returns the rule once the
// namespace's TcpExt:TCPSynRetrans has grown by count. The clients stay
// open until the test ends: closed, they would send what the listener
// answers with a reset.
func synAckRetransmits(t *testing.T, ns *sandbox.Netns, count int) *sandbox.NftRule {
	t.Helper()
	lfd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), count)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(lfd) })
	addr, err := sandbox.LocalAddr(lfd)
	require.NoError(t, err)
	rule, err := ns.DropTCPPortFlags(addr.Port(), tcpSYN|tcpACK|tcpRST|tcpFIN, tcpACK)
	require.NoError(t, err)
	before := netstat(t, ns, "TcpExt:TCPSynRetrans")
	fds, err := ns.StartConnects(addr, count)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	// The kernel's retransmission timer is the condition: 1s.
	var grown uint64
	waitFor(t, 10*time.Second, func() (bool, string) {
		grown = netstat(t, ns, "TcpExt:TCPSynRetrans") - before
		return grown >= uint64(count), fmt.Sprintf("TcpExt:TCPSynRetrans grew by %d, want %d: a SYN-ACK sent again per connect", grown, count)
	})
	require.Equal(t, uint64(count), grown, "TcpExt:TCPSynRetrans: one SYN-ACK sent again per connect")
	t.Logf("listener %v: %d handshake ACKs dropped (nft), TcpExt:TCPSynRetrans +%d", addr, packets(t, rule), grown)
	return rule
}

// retransmitsByReason is what the retransmissions' totals must show for
// this test's process: every segment its namespace sent again is its
// (Tcp:RetransSegs), of which TcpExt:TCPSynRetrans SYNs and SYN-ACKs,
// the SYNs as its clients' TCP_INFO counts them, and TcpExt:TCPLossProbes
// loss probes (nothing here sends any, or data again: 0, absent).
func retransmitsByReason(t *testing.T, netstat map[string]uint64, synsAgain, synAcked int) map[string]float64 {
	t.Helper()
	all, handshakes, probes := netstat["Tcp:RetransSegs"], netstat["TcpExt:TCPSynRetrans"], netstat["TcpExt:TCPLossProbes"]
	require.GreaterOrEqual(t, handshakes, uint64(synsAgain), "TcpExt:TCPSynRetrans counts the clients' SYNs sent again")
	require.Equal(t, uint64(synAcked), handshakes-uint64(synsAgain),
		"TcpExt:TCPSynRetrans %d less the clients' %d SYNs sent again: a SYN-ACK sent again per connect whose ACK was dropped", handshakes, synsAgain)
	require.Positive(t, synsAgain, "the overflowing listener's clients sent SYNs again")
	want := map[string]float64{"SYN": float64(synsAgain), "SYN_ACK": float64(synAcked)}
	if probes > 0 {
		want["LOSS_PROBE"] = float64(probes)
	}
	if data := all - handshakes - probes; data > 0 {
		want["DATA"] = float64(data)
	}
	t.Logf("Tcp:RetransSegs %d: TcpExt:TCPSynRetrans %d (%d SYNs, %d SYN-ACKs), TcpExt:TCPLossProbes %d", all, handshakes, synsAgain, synAcked, probes)
	return want
}

// failedConnectsByError is what the failed connects' totals must show for
// this test's process: the refused connects to a closed port and the
// overflowing listener's clients that failed, by error, which must add
// up to the namespace's Tcp:AttemptFails (nothing here ends a request
// socket, its passive part).
func failedConnectsByError(t *testing.T, netstat map[string]uint64, refused int, failed map[string]int) map[string]float64 {
	t.Helper()
	want := map[string]float64{"ECONNREFUSED": float64(refused)}
	sum := refused
	for name, n := range failed {
		want[name] += float64(n)
		sum += n
	}
	require.Equal(t, netstat["Tcp:AttemptFails"], uint64(sum), "Tcp:AttemptFails: the refused connects and the clients that failed %v", failed)
	t.Logf("Tcp:AttemptFails %d: %d refused, the overflowing listener's clients %v", sum, refused, failed)
	return want
}

// ownedByReason evaluates a totals panel's query and sums, by reason, the
// values of this test's process (mine) whose owner is a process.
func ownedByReason(prom *backends.Prometheus, query string, mine func(backends.Sample) bool) (map[string]float64, error) {
	samples, err := prom.Query(query)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, s := range samples {
		if mine(s) && s.Labels["tcp_drop_owner"] == "process" {
			out[s.Labels["tcp_drop_reason"]] += s.Value
		}
	}
	return out, nil
}

// packets is an nft rule's counter.
func packets(t *testing.T, rule *sandbox.NftRule) uint64 {
	t.Helper()
	n, err := rule.Packets()
	require.NoError(t, err)
	return n
}

// abortReasonOnThisKernel is the tcp_drop.reason of a connection closed
// with data unread: TCP_ABORT_ON_CLOSE from Linux 6.10, NOT_AVAILABLE
// before; and whether the kernel traces resets sent without a socket
// (6.10+: those to a closed port).
func abortReasonOnThisKernel(t *testing.T) (reason string, socketless bool) {
	t.Helper()
	reasons, err := dropreason.ResetsFromKernel()
	require.NoError(t, err)
	if !reasons.Available() {
		return drops.NotAvailable, false
	}
	const name = "TCP_ABORT_ON_CLOSE"
	_, ok := reasons.Value(name)
	require.True(t, ok, "the running kernel has reset reasons, but not %s", name)
	return name, true
}

// abortedConnections makes count connections to a listener of this process
// in ns and closes each accepted one with the client's data unread: the
// kernel resets each, as owned by this process. It returns the kernel's own
// count of them: the growth of the namespace's Tcp:OutRsts since its
// creation less the refused resets to a closed port made before, which
// TcpExtTCPAbortOnClose must equal.
func abortedConnections(t *testing.T, ns *sandbox.Netns, count, refused int) int {
	t.Helper()
	lfd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), count)
	require.NoError(t, err)
	defer unix.Close(lfd)
	addr, err := sandbox.LocalAddr(lfd)
	require.NoError(t, err)
	_, err = ns.AbortOnClose(lfd, addr, count)
	require.NoError(t, err)
	netstat, err := ns.Netstat()
	require.NoError(t, err)
	// The namespace is new: its counters count from 0.
	outRsts := netstat["Tcp:OutRsts"]
	require.GreaterOrEqual(t, outRsts, uint64(refused), "Tcp:OutRsts counts the resets to a closed port")
	aborts := int(outRsts) - refused
	require.Equal(t, count, aborts, "Tcp:OutRsts %d less %d resets to a closed port: one reset per connection closed with data unread", outRsts, refused)
	require.Equal(t, uint64(aborts), netstat["TcpExt:TCPAbortOnClose"], "TcpExtTCPAbortOnClose")
	t.Logf("Tcp:OutRsts %d: %d resets to a closed port, %d connections closed with data unread (TcpExtTCPAbortOnClose %d)",
		outRsts, refused, aborts, netstat["TcpExt:TCPAbortOnClose"])
	return aborts
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
