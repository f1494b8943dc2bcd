// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// What the collector (v0.165) serves, trimmed.
const promSample = `# HELP otelcol_receiver_accepted_log_records Number of log records successfully pushed into the pipeline.
# TYPE otelcol_receiver_accepted_log_records counter
otelcol_receiver_accepted_log_records{receiver="tcp_drop",transport="ebpf"} 2.000316e+06
otelcol_receiver_accepted_log_records{receiver="otlp",transport="grpc"} 5
otelcol_receiver_accepted_metric_points{receiver="tcp_drop",transport="ebpf"} 22
otelcol_receiver_refused_log_records_total{receiver="tcp_drop",transport="ebpf",note="a \"quoted\", \\ value"} 7 1700000000000
target_info{service_instance_id="41de6fda",service_name="otelcol-tcpdrop"} 1
`

func TestCounterValue(t *testing.T) {
	tcpDrop := map[string]string{"receiver": "tcp_drop"}
	for _, tc := range []struct {
		name  string
		want  float64
		found bool
	}{
		{acceptedLogRecords, 2000316, true},
		{refusedLogRecords, 7, true}, // the _total suffix some exporters add
		{"otelcol_receiver_failed_log_records", 0, false},
	} {
		got, found, err := counterValue([]byte(promSample), tc.name, tcpDrop)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want || found != tc.found {
			t.Errorf("%s: %v %v, want %v %v", tc.name, got, found, tc.want, tc.found)
		}
	}
	// Without a label filter every series is summed.
	if got, _, _ := counterValue([]byte(promSample), acceptedLogRecords, nil); got != 2000321 {
		t.Errorf("all receivers: %v", got)
	}
	// Escapes in label values.
	if got, _, _ := counterValue([]byte(promSample), refusedLogRecords, map[string]string{"note": `a "quoted", \ value`}); got != 7 {
		t.Errorf("escaped label: %v", got)
	}
}

func TestCounterValueRejectsGarbage(t *testing.T) {
	for _, bad := range []string{"name_only", `x{a="b} 1`, `x{a=b} 1`, "x{} one"} {
		if _, _, err := counterValue([]byte(bad+"\n"), "x", nil); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestScrape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, promSample)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	text, err := scrape(ctx, srv.URL+"/metrics")
	if err != nil || string(text) != promSample {
		t.Fatalf("scrape: %v", err)
	}
	if _, err := scrape(ctx, srv.URL+"/nope"); err == nil {
		t.Fatal("404: want an error")
	}
}
