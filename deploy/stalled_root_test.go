// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tcpdrop/tcpdrop/harness/collector"
	"github.com/tcpdrop/tcpdrop/harness/dropgen"
	"github.com/tcpdrop/tcpdrop/harness/otlpsink"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// What the shipped configurations promise behind a backend that stops
// answering (README "When the backend stops answering").
const (
	maxRSS      = 300 << 20
	maxExitTime = 10 * time.Second
)

// stallCase is a shipped collector configuration with tcp_drop in it, and
// the environment it runs in there.
type stallCase struct {
	name string
	grpc bool // its exporter speaks OTLP/gRPC, else OTLP/HTTP
	cfg  map[string]any
	env  []string
	// refuses: its queues are small enough that the stall, with a record
	// per drop, makes the collector refuse records, and say so.
	refuses bool
	// exitWithin bounds its exit after SIGTERM; 0: maxExitTime.
	exitWithin time.Duration
}

// exporterDefaultsExit bounds the minimal config's exit: otlp_http at its
// defaults waits up to its 30s timeout for each request in flight at
// SIGTERM (the queue does not pass the shutdown on to them), and the
// collector shuts its logs and its metrics exporter down one after the
// other. Nothing in the receiver shortens that; the shipped configs set a
// 3s timeout.
const exporterDefaultsExit = 2*30*time.Second + maxExitTime

// recordPerDrop sets log_records_per_key 0 on every tcp_drop receiver of
// cfg: a record per drop up to max_log_records_per_second, the most a flood
// over many keys can make at the defaults. The shipped configs are tested
// so, their queues then fill and they must refuse; a flood of one key
// makes a few records an interval (the minimal config's case).
func recordPerDrop(cfg map[string]any) {
	for id, r := range dig(cfg, "receivers").(map[string]any) {
		if id != "tcp_drop" && !strings.HasPrefix(id, "tcp_drop/") {
			continue
		}
		rcv, _ := r.(map[string]any)
		if rcv == nil {
			rcv = map[string]any{}
			cfg["receivers"].(map[string]any)[id] = rcv
		}
		rcv["log_records_per_key"] = 0
	}
}

// minimalConfig is how most users start: tcp_drop at its defaults and an
// otlp_http exporter at its own, no memory_limiter, no batch processor. The
// receiver's defaults alone must keep it within maxRSS.
func minimalConfig() map[string]any {
	pipeline := func() map[string]any {
		return map[string]any{"receivers": []any{"tcp_drop"}, "exporters": []any{"otlp_http"}}
	}
	return map[string]any{
		"receivers": map[string]any{"tcp_drop": nil},
		"exporters": map[string]any{"otlp_http": map[string]any{"endpoint": "http://127.0.0.1:4318"}},
		"service":   map[string]any{"pipelines": map[string]any{"logs": pipeline(), "metrics": pipeline()}},
	}
}

func stallCases(t *testing.T) []stallCase {
	root := collector.RootForTest(t)
	var example map[string]any
	b, err := os.ReadFile(filepath.Join(root, "otelcol-config.example.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &example))
	// The example's backends, switched on as README says.
	dig(example, "service", "pipelines", "logs").(map[string]any)["exporters"] = []any{"otlp_http/victorialogs"}
	dig(example, "service", "pipelines", "metrics").(map[string]any)["exporters"] = []any{"otlp_http/prometheus"}

	var agent map[string]any
	cm := documents(t, filepath.Join("kubernetes", "10-agent-configmap.yaml"))[0]
	require.NoError(t, yaml.Unmarshal([]byte(dig(cm, "data", "config.yaml").(string)), &agent))
	ds := documents(t, filepath.Join("kubernetes", "11-agent-daemonset.yaml"))[0]
	var agentEnv []string
	for _, e := range dig(dig(ds, "spec", "template", "spec", "containers").([]any)[0], "env").([]any) {
		if v, ok := dig(e, "value").(string); ok {
			agentEnv = append(agentEnv, dig(e, "name").(string)+"="+v)
		}
	}
	require.Contains(t, agentEnv, "GOMEMLIMIT=200MiB")

	helm := documents(t, filepath.Join("helm", "values-agent.yaml"))[0]["alternateConfig"].(map[string]any)
	for _, cfg := range []map[string]any{example, agent, helm} {
		recordPerDrop(cfg)
	}
	return []stallCase{
		{name: "example", cfg: example, refuses: true},
		{name: "kubernetes-agent", grpc: true, cfg: agent, env: append(agentEnv, "POD_IP=127.0.0.1"), refuses: true},
		// The chart sets GOMEMLIMIT to 80% of the memory limit (256Mi).
		{name: "helm-agent", grpc: true, cfg: helm, env: []string{"MY_POD_IP=127.0.0.1", "GOMEMLIMIT=204MiB"}, refuses: true},
		{name: "minimal", cfg: minimalConfig(), exitWithin: exporterDefaultsExit},
	}
}

// pointAt sends every exporter of cfg to addr and the collector's own
// metrics and health check to free local ports; nothing else changes.
// It returns the telemetry port.
func pointAt(t *testing.T, cfg map[string]any, addr string) int {
	for name, e := range dig(cfg, "exporters").(map[string]any) {
		e, ok := e.(map[string]any)
		if !ok {
			continue // no settings, as the terminal exporter's: it sends nowhere
		}
		switch {
		case strings.HasPrefix(name, "otlp_http"):
			if _, ok := e["endpoint"]; ok {
				e["endpoint"] = "http://" + addr
			}
			for _, k := range []string{"logs_endpoint", "metrics_endpoint"} {
				if _, ok := e[k]; ok {
					e[k] = "http://" + addr + "/v1/" + strings.TrimSuffix(k, "_endpoint")
				}
			}
		case strings.HasPrefix(name, "otlp_grpc"):
			e["endpoint"] = addr
		}
	}
	if h, ok := dig(cfg, "extensions", "health_check").(map[string]any); ok {
		h["endpoint"] = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	}
	port := freePort(t)
	telemetry, _ := dig(cfg, "service", "telemetry").(map[string]any)
	if telemetry == nil {
		telemetry = map[string]any{}
		cfg["service"].(map[string]any)["telemetry"] = telemetry
	}
	telemetry["metrics"] = map[string]any{"readers": []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{
		"prometheus": map[string]any{"host": "127.0.0.1", "port": port}}}}}}
	return port
}

// TestStalledBackend runs each shipped configuration, with a record per
// drop (recordPerDrop), and the minimal one (tcp_drop and otlp_http at
// their defaults), behind a backend that accepts connections and never
// answers, during a full-rate flood (and SYNs an nft rule drops on their
// way to a listener this test owns): the collector stays under 300 MiB,
// says in its own metrics what it refused (the shipped ones, whose queues
// fill), and once the backend answers again delivers by itself counts
// equal to the rule's counter and every record of new drops. Stalled and
// flooded once more, it exits within 10s of SIGTERM (the minimal config:
// within its exporter's timeouts, exporterDefaultsExit).
func TestStalledBackend(t *testing.T) {
	roottest.Require(t)
	if os.Getenv("TCPDROP_COLLECTOR") != "" {
		// make test-kernels' guests: what is tested here is the
		// exporters' behaviour, which no kernel changes; make test runs it.
		t.Skip("the host's test: the exporters' behaviour behind a stalled backend does not depend on the kernel")
	}
	bin := collector.BinaryForTest(t)
	for _, c := range stallCases(t) {
		t.Run(c.name, func(t *testing.T) { testStalled(t, bin, c) })
	}
}

func testStalled(t *testing.T, bin string, c stallCase) {
	protocol := otlpsink.HTTP
	if c.grpc {
		protocol = otlpsink.GRPC
	}
	b := otlpsink.ForTest(t, protocol)
	sw := listenSwitch(t, true, b.Addr)
	telemetryPort := pointAt(t, c.cfg, sw.Addr().String())
	cfg, err := yaml.Marshal(c.cfg)
	require.NoError(t, err)
	otelcol := collector.ForTest(t, bin, cfg, c.env...)
	rss := watchRSS(otelcol.Pid)
	telemetry := func() map[string]float64 { return scrape(telemetryPort) }
	require.Eventually(t, func() bool { return telemetry() != nil }, 30*time.Second, 100*time.Millisecond,
		"the collector's own metrics did not come up")

	ns := sandbox.NewForTest(t)
	pid := int64(os.Getpid())
	mine := func(r otlpsink.Point) bool {
		return otlpsink.Int(r.Resource, "process.pid") == pid && r.Attrs["tcp_drop.kernel_function"] == "nft_do_chain"
	}

	// Stalled, flooded: the firewalled SYNs' records are refused with the
	// rest, their count is kept.
	rule1 := firewalled(t, ns)
	flood := startFlood(t, 20*time.Second)
	// The listener polled, its owner known: the stalled backend shows
	// nothing, so no condition can be watched: 3s is three polls at the
	// default poll_interval.
	time.Sleep(3 * time.Second)
	require.NoError(t, ns.ConnectTimeout(rule1.addr, 20, 50*time.Millisecond))
	report := flood.wait(t)
	t.Logf("flood: %v", report)
	refused := telemetry()
	t.Logf("the collector's own count, stalled: %s", refusals(refused))
	if c.refuses {
		require.Positive(t, refused["otelcol_exporter_enqueue_failed_log_records"]+refused["otelcol_receiver_refused_log_records"],
			"the collector says it refused records")
	}
	t.Logf("peak RSS while stalled: %.1f MiB", float64(rss.peak())/(1<<20))

	// Answering again: without a restart, the counts become the kernel's,
	// and then every record of new drops arrives.
	recovered := time.Now()
	sw.Stall(false)
	// The requests held through the stall go out as their retries come
	// up (up to 30s apart); new data finds room once they are gone.
	waitFor(t, 150*time.Second, func() (bool, string) {
		counted, _ := b.Last("tcp_drop.packets", mine)
		queued := telemetry()["otelcol_exporter_queue_size"]
		return counted == int64(rule1.packets(t)) && queued == 0,
			fmt.Sprintf("tcp_drop.packets %d, the rule's counter %d; %v requests queued", counted, rule1.packets(t), queued)
	})
	t.Logf("%v after the backend answered again: tcp_drop.packets for this test's owner = %d = the rule's counter",
		time.Since(recovered).Round(100*time.Millisecond), rule1.packets(t))
	rule2 := firewalled(t, ns)
	// The collector knows the listener, and its owner, once its gauge
	// shows up.
	listening := func(r otlpsink.Point) bool {
		return otlpsink.Int(r.Resource, "process.pid") == pid && otlpsink.Int(r.Attrs, "network.local.port") == int64(rule2.addr.Port())
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		_, ok := b.Last("tcp_drop.listen.queue.limit", listening)
		return ok, "no tcp_drop.listen.queue.limit for the new listener"
	})
	require.NoError(t, ns.ConnectTimeout(rule2.addr, 10, 50*time.Millisecond))
	dropped := rule1.packets(t) + rule2.packets(t)
	ours := func(r otlpsink.Record) bool { // the flood, in a namespace of its own, sends RSTs to random ports
		return otlpsink.Int(r.Attrs, "destination.port") == int64(rule2.addr.Port()) && otlpsink.Int(r.Attrs, "tcp_drop.netns.inode") == int64(ns.Inode())
	}
	waitFor(t, 60*time.Second, func() (bool, string) {
		counted, _ := b.Last("tcp_drop.packets", mine)
		n := len(b.Records(ours))
		return counted == int64(dropped) && n >= int(rule2.packets(t)),
			fmt.Sprintf("tcp_drop.packets %d, the rules' counters %d; records %d of %d", counted, dropped, n, rule2.packets(t))
	})
	require.Len(t, b.Records(ours), int(rule2.packets(t)), "one record per packet dropped after recovery")

	// Stalled again, flooded: SIGTERM.
	sw.Stall(true)
	flood = startFlood(t, 30*time.Second)
	// Time is the condition: the queues fill under the flood, as far as
	// each config lets them (some never fill), before SIGTERM.
	time.Sleep(8 * time.Second)
	exitWithin := cmp.Or(c.exitWithin, maxExitTime)
	exit, exitErr := otelcol.Stop(exitWithin + 20*time.Second)
	require.NotErrorIs(t, exitErr, collector.ErrTimeout, "the collector did not exit within %v of SIGTERM", exitWithin+20*time.Second)
	flood.stop()
	t.Logf("exit %v after SIGTERM (%v); peak RSS %.1f MiB", exit.Round(10*time.Millisecond), exitErr, float64(rss.peak())/(1<<20))
	require.Less(t, exit, exitWithin, "exit after SIGTERM")
	require.Less(t, rss.peak(), int64(maxRSS), "peak RSS")
}

type firewalledPort struct {
	addr netip.AddrPort
	rule *sandbox.NftRule
}

func (f firewalledPort) packets(t *testing.T) uint64 {
	n, err := f.rule.Packets()
	require.NoError(t, err)
	return n
}

// firewalled listens in ns, as this process, on a port an nft rule drops
// SYNs to.
func firewalled(t *testing.T, ns *sandbox.Netns) firewalledPort {
	fd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 16)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	addr, err := sandbox.LocalAddr(fd)
	require.NoError(t, err)
	rule, err := ns.DropTCPPort(addr.Port())
	require.NoError(t, err)
	return firewalledPort{addr, rule}
}

// flood is dropgen at full rate, in a namespace of its own.
type flood struct {
	cancel context.CancelFunc
	done   chan struct{}
	report dropgen.Report
	err    error
}

func startFlood(t *testing.T, d time.Duration) *flood {
	ctx, cancel := context.WithCancel(context.Background())
	f := &flood{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.report, f.err = dropgen.Flood(ctx, dropgen.Options{Duration: d})
	}()
	t.Cleanup(f.stop)
	return f
}

func (f *flood) stop() { f.cancel(); <-f.done }

func (f *flood) wait(t *testing.T) dropgen.Report {
	<-f.done
	require.NoError(t, f.err)
	return f.report
}

// rssWatch samples a process's resident set until it exits.
type rssWatch struct {
	mu  sync.Mutex
	max int64
}

func watchRSS(pid int) *rssWatch {
	w := &rssWatch{}
	go func() {
		for {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				return
			}
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					w.mu.Lock()
					w.max = max(w.max, kb<<10)
					w.mu.Unlock()
				}
			}
			if strings.Contains(string(b), "State:\tZ") {
				return
			}
			time.Sleep(50 * time.Millisecond) // the sampling interval of the peak
		}
	}()
	return w
}

func (w *rssWatch) peak() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.max
}

// scrape reads the collector's own metrics, summed by name over their
// labels, with Prometheus' _total suffix taken off; nil if they cannot
// be read.
func scrape(port int) map[string]float64 {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	sums := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 && i < len(name) {
			name = line[:i]
			rest = line[strings.LastIndexByte(line, '}')+1:]
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			continue
		}
		sums[strings.TrimSuffix(name, "_total")] += v
	}
	return sums
}

// refusals is what the collector says it refused or lost, for the log.
func refusals(m map[string]float64) string {
	var parts []string
	for _, k := range []string{
		"otelcol_receiver_accepted_log_records", "otelcol_receiver_refused_log_records",
		"otelcol_exporter_sent_log_records", "otelcol_exporter_enqueue_failed_log_records", "otelcol_exporter_send_failed_log_records",
		"otelcol_receiver_refused_metric_points", "otelcol_exporter_enqueue_failed_metric_points",
		"otelcol_exporter_queue_size",
	} {
		parts = append(parts, fmt.Sprintf("%s=%.0f", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// waitFor polls cond until it holds, or fails the test with what it said
// last.
func waitFor(t *testing.T, limit time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
