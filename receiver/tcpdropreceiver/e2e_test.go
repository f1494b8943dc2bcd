//go:build linux

package tcpdropreceiver

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tcpdrop/tcpdrop/internal/roottest"
	"github.com/tcpdrop/tcpdrop/internal/sandbox"
)

const e2eConfig = `
receivers:
  tcp_drop:
    collection_interval: 500ms
    flush_interval: 10ms
    max_log_records_per_second: 0  # other drops on the machine must not shed ours
exporters:
  otlp_http:
    endpoint: %s
    compression: none
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [tcp_drop]
      exporters: [otlp_http]
    metrics:
      receivers: [tcp_drop]
      exporters: [otlp_http]
`

// TestCollectorEndToEnd builds the collector with ocb, runs it, makes drops
// to a closed port in a fresh network namespace, and finds exactly one log
// record per drop and the metric grown by exactly that many.
func TestCollectorEndToEnd(t *testing.T) {
	roottest.Require(t)
	collector := buildCollector(t)
	backend := startOTLPServer(t)
	config := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(e2eConfig, backend.URL)), 0o600))

	var output bytes.Buffer
	cmd := exec.Command(collector, "--config", config)
	cmd.Stdout, cmd.Stderr = &output, &output
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("collector output:\n%s", output.String())
		}
	})

	// Ready when the first metrics arrive.
	require.Eventually(t, func() bool { _, ok := backend.lastSum("tcp_drop.events.lost", anyPoint); return ok },
		30*time.Second, 50*time.Millisecond, "no metrics from the collector")
	require.Equal(t, 1, heldProbePrograms(t, cmd.Process.Pid), "logs and metrics pipelines attach one program")

	ns, err := sandbox.New()
	require.NoError(t, err)
	defer ns.Close()
	for _, tc := range []struct {
		addr     string
		count    int
		function string
	}{
		{"127.0.0.1", 20, "tcp_v4_rcv"},
		{"::1", 10, "tcp_v6_rcv"},
	} {
		mine := func(dp pmetric.NumberDataPoint) bool {
			return attrInt(dp.Attributes().AsRaw(), attrPID) == int64(os.Getpid()) &&
				dp.Attributes().AsRaw()[attrReason] == "NO_SOCKET" &&
				dp.Attributes().AsRaw()[attrFunction] == tc.function
		}
		before, _ := backend.lastSum("tcp_drop.packets", mine)
		dst := netip.AddrPortFrom(netip.MustParseAddr(tc.addr), 9)
		require.NoError(t, ns.ConnectRefused(dst, tc.count))

		ours := func(lr plog.LogRecord) bool {
			a := lr.Attributes().AsRaw()
			return attrInt(a, attrNetns) == int64(ns.Inode()) && a[attrDstAddress] == tc.addr
		}
		grown := func() bool {
			now, _ := backend.lastSum("tcp_drop.packets", mine)
			return len(backend.logRecords(ours)) >= tc.count && now-before >= int64(tc.count)
		}
		require.Eventually(t, grown, 30*time.Second, 50*time.Millisecond, "drops did not arrive")
		time.Sleep(time.Second) // two collections more: any extra would show

		records := backend.logRecords(ours)
		require.Len(t, records, tc.count, "one log record per drop")
		for _, lr := range records {
			a := lr.Attributes().AsRaw()
			require.Equal(t, "NO_SOCKET", a[attrReason])
			require.Equal(t, tc.function, a[attrFunction])
			require.Equal(t, int64(9), attrInt(a, attrDstPort))
			require.Equal(t, tc.addr, a[attrSrcAddress])
			require.Equal(t, "SYN", a[attrTCPFlags])
			require.Contains(t, lr.Body().Str(), "Reason: NO_SOCKET | Function: "+tc.function+"+0x")
		}
		after, _ := backend.lastSum("tcp_drop.packets", mine)
		require.Equal(t, int64(tc.count), after-before, "tcp_drop.packets grew by the drops made")
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "the collector exits cleanly on SIGTERM")
	case <-time.After(20 * time.Second):
		t.Fatal("the collector did not exit within 20s of SIGTERM")
	}
}

func anyPoint(pmetric.NumberDataPoint) bool { return true }

func attrInt(attrs map[string]any, key string) int64 {
	v, _ := attrs[key].(int64)
	return v
}

// buildCollector builds _build/otelcol-tcpdrop with ocb through the
// Makefile, which rebuilds only when a source changed, and checks the
// versions ocb resolved.
func buildCollector(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "make", "-C", root, "build").CombinedOutput()
	require.NoErrorf(t, err, "make build:\n%s", out)
	checkDistributionVersions(t, filepath.Join(root, "_build", "go.mod"))
	return filepath.Join(root, "_build", "otelcol-tcpdrop")
}
