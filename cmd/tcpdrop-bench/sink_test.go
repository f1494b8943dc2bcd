// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// export is what the receiver sends at one collection.
func export(lost, shed int64, packets map[[2]string]int64, at time.Time) []byte {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	sum := func(name string) pmetric.NumberDataPointSlice {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetEmptySum().SetIsMonotonic(true)
		return m.Sum().DataPoints()
	}
	for name, v := range map[string]int64{metricLost: lost, metricShed: shed, metricUncounted: 0, metricMissed: 9} {
		dp := sum(name).AppendEmpty()
		dp.SetIntValue(v)
		dp.SetTimestamp(pcommon.NewTimestampFromTime(at))
	}
	dps := sum(metricPackets)
	for k, v := range packets {
		dp := dps.AppendEmpty()
		dp.SetIntValue(v)
		dp.Attributes().PutStr(attrReason, k[0])
		dp.Attributes().PutStr(attrFunction, k[1])
		dp.Attributes().PutInt("process.pid", 42)
	}
	data, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	return data
}

func post(t *testing.T, url string, body []byte, gz bool) {
	t.Helper()
	if gz {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		if _, err := w.Write(body); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		body = b.Bytes()
	}
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/metrics", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %s", resp.Status)
	}
}

func TestSink(t *testing.T) {
	s, err := startSink()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	at := time.Unix(1700000000, 0)
	post(t, s.URL, export(3, 4, map[[2]string]int64{{"NO_SOCKET", "tcp_v4_rcv"}: 100, {"NO_SOCKET", "tcp_v6_rcv"}: 20}, at), false)
	c, err := s.next(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Seq != 1 || c.Packets != 120 || c.Lost != 3 || c.Shed != 4 || c.Missed != 9 || !c.Stamp.Equal(at) ||
		c.ByCause["NO_SOCKET tcp_v4_rcv"] != 100 || c.ByCause["NO_SOCKET tcp_v6_rcv"] != 20 {
		t.Fatalf("counts %+v", c)
	}
	post(t, s.URL, export(5, 0, nil, at.Add(time.Second)), true)
	if c, err = s.next(ctx, 1); err != nil || c.Seq != 2 || c.Packets != 0 || c.Lost != 5 {
		t.Fatalf("gzip export: %+v %v", c, err)
	}
	// A new collector's counts start from nothing.
	s.reset()
	if c, _ := s.latest(); c.Valid || c.Seq != 2 {
		t.Fatalf("after reset %+v", c)
	}
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := s.next(short, 0); !errors.Is(err, errNoExport) {
		t.Fatalf("no export: %v", err)
	}
	resp, err := http.Post(s.URL+"/v1/metrics", "application/x-protobuf", bytes.NewReader([]byte{0xff, 0xff}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("garbage: %s", resp.Status)
	}
}

// TestSinkSummaries: the sink counts the summary records of repeats in the
// logs it is sent, and adds up their tcp_drop.repeats; drop records are
// not summaries, and a new collector starts from none.
func TestSinkSummaries(t *testing.T) {
	s, err := startSink()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req := plogotlp.NewExportRequest()
	records := req.Logs().ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	records.AppendEmpty().Attributes().PutStr(attrReason, "NO_SOCKET") // a drop record
	for _, n := range []int64{1000, 234} {
		records.AppendEmpty().Attributes().PutInt(attrRepeats, n)
	}
	body, err := req.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.URL+"/v1/logs", "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := s.summaries(); got != (summaries{Records: 2, Repeats: 1234}) {
		t.Errorf("summaries %+v, want 2 records of 1234 repeats", got)
	}
	s.reset()
	if got := s.summaries(); got != (summaries{}) {
		t.Errorf("after reset: %+v", got)
	}
}
