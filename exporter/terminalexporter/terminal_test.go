// SPDX-License-Identifier: Apache-2.0

package terminalexporter

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

var at = time.Date(2026, 12, 7, 15, 4, 23, 0, time.Local)

func TestLogsALinePerRecordWithItsTime(t *testing.T) {
	ld := plog.NewLogs()
	records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	drop := records.AppendEmpty()
	drop.SetTimestamp(pcommon.NewTimestampFromTime(at))
	drop.Body().SetStr("Drop | PID: 1234 (server) | Reason: NO_SOCKET")
	drop.Attributes().PutStr("tcp_drop.reason", "NO_SOCKET")
	overflow := records.AppendEmpty() // no time of its own: the observed one
	overflow.SetObservedTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Second)))
	overflow.Body().SetStr("Listen overflow | PID: 1234 (server)")

	var out bytes.Buffer
	require.NoError(t, logsPrinter{out: &lineWriter{w: &out}}.push(context.Background(), ld))
	require.Equal(t, "[15:04:23] Drop | PID: 1234 (server) | Reason: NO_SOCKET\n"+
		"[15:04:24] Listen overflow | PID: 1234 (server)\n", out.String())
}

func TestCountsALinePerCollection(t *testing.T) {
	md := pmetric.NewMetrics()
	for _, owner := range []map[string]int64{{"NO_SOCKET": 30, "NETFILTER_DROP": 2}, {"NETFILTER_DROP": 10}} {
		metrics := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
		packets := metrics.AppendEmpty()
		packets.SetName(packetsMetric)
		points := packets.SetEmptySum().DataPoints()
		for reason, n := range owner {
			dp := points.AppendEmpty()
			dp.SetTimestamp(pcommon.NewTimestampFromTime(at))
			dp.SetIntValue(n)
			dp.Attributes().PutStr(reasonAttr, reason)
		}
		queue := metrics.AppendEmpty() // not a count: left out
		queue.SetName("tcp_drop.listen.queue.size")
		queue.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(5)
	}
	lost := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	lost.SetName("tcp_drop.events.lost")
	lost.SetEmptySum().DataPoints().AppendEmpty().SetIntValue(3)
	resets := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	resets.SetName("tcp_drop.resets")
	resets.SetEmptySum().DataPoints().AppendEmpty().SetIntValue(20)
	retransmits := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	retransmits.SetName("tcp_drop.retransmits")
	retransmits.SetEmptySum().DataPoints().AppendEmpty().SetIntValue(7)

	var out bytes.Buffer
	require.NoError(t, countsPrinter{out: &lineWriter{w: &out}}.push(context.Background(), md))
	require.Equal(t, "[15:04:23] Counts since start: 42 drops | NO_SOCKET 30 | NETFILTER_DROP 12 | resets sent 20 | segments sent again 7 | events lost 3\n", out.String())

	out.Reset()
	require.NoError(t, countsPrinter{out: &lineWriter{w: &out}}.push(context.Background(), pmetric.NewMetrics()))
	require.Empty(t, out.String(), "a batch without tcp_drop counts")
}

func TestCountsNameTheLargestReasons(t *testing.T) {
	s := summary{at: at, total: 28, shortfalls: make([]int64, len(shortfalls))}
	for i, r := range []string{"A", "B", "C", "D", "E", "F", "G", "H"} {
		s.byReason = append(s.byReason, reasonCount{r, int64(7 - i)})
	}
	require.Equal(t, "[15:04:23] Counts since start: 28 drops | A 7 | B 6 | C 5 | D 4 | E 3 | F 2 | 2 other reasons 1\n", string(s.appendLine(nil)))
}

func TestFactory(t *testing.T) {
	f := NewFactory()
	require.Equal(t, "terminal", f.Type().String())
	set := exporter.Settings{ID: component.NewID(f.Type()), TelemetrySettings: componenttest.NewNopTelemetrySettings(), BuildInfo: component.NewDefaultBuildInfo()}
	logs, err := f.CreateLogs(context.Background(), set, f.CreateDefaultConfig())
	require.NoError(t, err)
	metrics, err := f.CreateMetrics(context.Background(), set, f.CreateDefaultConfig())
	require.NoError(t, err)
	for _, c := range []interface {
		Start(context.Context, component.Host) error
		Shutdown(context.Context) error
	}{logs, metrics} {
		require.NoError(t, c.Start(context.Background(), componenttest.NewNopHost()))
		require.NoError(t, c.Shutdown(context.Background()))
	}
}
