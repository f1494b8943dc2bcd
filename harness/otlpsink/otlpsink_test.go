// SPDX-License-Identifier: Apache-2.0

package otlpsink

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func someLogs(pid int64, port int64) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutInt("process.pid", pid)
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Attributes().PutInt("destination.port", port)
	lr.Body().SetStr("Drop")
	return ld
}

func someMetrics(packets int64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutInt("process.pid", 7)
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("tcp_drop.packets")
	dp := m.SetEmptySum().DataPoints().AppendEmpty()
	dp.SetIntValue(packets)
	dp.Attributes().PutStr("tcp_drop.reason", "NO_SOCKET")
	return md
}

// post sends body as an exporter does: protobuf, gzipped.
func post(t *testing.T, url string, body []byte) {
	t.Helper()
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, err := zw.Write(body)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	req, err := http.NewRequest(http.MethodPost, url, &zipped)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestHTTP(t *testing.T) {
	s := ForTest(t, HTTP)
	logs, err := plogotlp.NewExportRequestFromLogs(someLogs(7, 9)).MarshalProto()
	require.NoError(t, err)
	post(t, s.URL+"/v1/logs", logs)
	for _, n := range []int64{3, 5} {
		metrics, err := pmetricotlp.NewExportRequestFromMetrics(someMetrics(n)).MarshalProto()
		require.NoError(t, err)
		post(t, s.URL+"/v1/metrics", metrics)
	}

	records := s.Records(func(r Record) bool { return Int(r.Attrs, "destination.port") == 9 })
	require.Len(t, records, 1)
	require.Equal(t, int64(7), Int(records[0].Resource, "process.pid"), "the Resource's attributes")
	require.Equal(t, map[string]any{"process.pid": int64(7), "destination.port": int64(9)}, records[0].All())
	require.Equal(t, "Drop", records[0].Body().Str())
	merged := records[0].Merged()
	require.Equal(t, map[string]any{"process.pid": int64(7), "destination.port": int64(9)}, merged.Attributes().AsRaw())
	require.Equal(t, "Drop", merged.Body().Str())

	v, ok := s.Last("tcp_drop.packets", func(p Point) bool { return p.Attrs["tcp_drop.reason"] == "NO_SOCKET" })
	require.True(t, ok)
	require.Equal(t, int64(5), v, "the newest export's value")
	_, ok = s.Last("tcp_drop.packets", func(Point) bool { return false })
	require.False(t, ok)
}

func TestGRPC(t *testing.T) {
	s := ForTest(t, GRPC)
	conn, err := grpc.NewClient(s.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(someLogs(7, 9)))
	require.NoError(t, err)
	require.Len(t, s.Records(func(Record) bool { return true }), 1)
}

func TestNothingToKeep(t *testing.T) {
	_, err := Start(HTTP, nil, nil)
	require.Error(t, err)
}
