// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

var modesDir = filepath.Join("..", "..", "testdata", "modes")

func TestModeConfigs(t *testing.T) {
	want := map[string][]string{
		"terminal": {"debug"}, "file": {"debug"}, "benchmark": {"nop"}, "busy": {"nop"},
	}
	for _, m := range compareModes(modesDir) {
		if m.attach != attachCollector {
			continue
		}
		data, err := os.ReadFile(m.configFile)
		if err != nil {
			t.Fatal(err)
		}
		p, err := readMetricsPipeline(data)
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if !slices.Equal(p.Exporters, want[m.name]) || tcpDropReceiver(p.Receivers) != "tcp_drop" {
			t.Errorf("%s: metrics pipeline %+v", m.name, p)
		}
		var doc struct {
			Service struct {
				Pipelines map[string]any `yaml:"pipelines"`
			} `yaml:"service"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		// benchmark is count only: no logs pipeline, so no events at all.
		if _, logs := doc.Service.Pipelines["logs"]; logs != m.events {
			t.Errorf("%s: logs pipeline %v, mode sends events %v", m.name, logs, m.events)
		}
	}
}

func TestReadMetricsPipelineErrors(t *testing.T) {
	for _, bad := range []string{
		"service: {pipelines: {logs: {receivers: [tcp_drop], exporters: [nop]}}}",
		"service: {pipelines: {metrics: {receivers: [otlp], exporters: [nop]}}}",
		"service: [",
	} {
		if _, err := readMetricsPipeline([]byte(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
	p, err := readMetricsPipeline([]byte("service: {pipelines: {metrics: {receivers: [otlp, tcp_drop/x], exporters: [nop]}}}"))
	if err != nil || tcpDropReceiver(p.Receivers) != "tcp_drop/x" {
		t.Errorf("named receiver: %+v %v", p, err)
	}
}

func TestOverlay(t *testing.T) {
	data, err := overlay(metricsPipeline{Receivers: []string{"tcp_drop"}, Exporters: []string{"debug"}},
		telemetryTarget{SinkURL: "http://127.0.0.1:4318", PromPort: 8888})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Receivers map[string]map[string]any `yaml:"receivers"`
		Exporters map[string]map[string]any `yaml:"exporters"`
		Service   struct {
			Telemetry struct {
				Metrics struct {
					Readers []map[string]map[string]map[string]map[string]any `yaml:"readers"`
				} `yaml:"metrics"`
			} `yaml:"telemetry"`
			Pipelines map[string]metricsPipeline `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Receivers["tcp_drop"]["collection_interval"] != "1s" {
		t.Errorf("collection_interval: %v", doc.Receivers)
	}
	if doc.Exporters[sinkExporter]["endpoint"] != "http://127.0.0.1:4318" {
		t.Errorf("exporter: %v", doc.Exporters)
	}
	// Lists are replaced when the collector merges: the mode's exporters stay.
	if got := doc.Service.Pipelines["metrics"].Exporters; !slices.Equal(got, []string{"debug", sinkExporter}) {
		t.Errorf("metrics exporters %v", got)
	}
	if len(doc.Service.Telemetry.Metrics.Readers) != 1 ||
		doc.Service.Telemetry.Metrics.Readers[0]["pull"]["exporter"]["prometheus"]["port"] != 8888 {
		t.Errorf("telemetry readers: %+v", doc.Service.Telemetry.Metrics.Readers)
	}
}

func TestBenchConfig(t *testing.T) {
	data, err := benchConfig(receiverSettings{WakeupBytes: 1, MaxLogRecords: 0})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Receivers map[string]map[string]int `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if r := doc.Receivers["tcp_drop"]; r["wakeup_bytes"] != 1 || r["max_log_records_per_second"] != 0 {
		t.Errorf("receiver settings: %v\n%s", r, data)
	}
	data, _ = benchConfig(receiverSettings{MaxLogRecords: -1})
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Receivers["tcp_drop"]) != 0 {
		t.Errorf("defaults must leave the receiver's keys unset:\n%s", data)
	}
}

// The collector itself accepts every mode merged with its overlay: it
// merges maps and replaces lists as the overlay expects. Needs the built
// collector (make build); validating loads no program, so no root.
func TestCollectorValidatesMergedConfigs(t *testing.T) {
	bin := filepath.Join("..", "..", "_build", "otelcol-tcpdrop")
	if _, err := os.Stat(bin); err != nil {
		t.Skip("no collector built (make build): ", err)
	}
	target := telemetryTarget{SinkURL: "http://127.0.0.1:1", PromPort: 1}
	modes := append(compareModes(modesDir), benchModes(-1)...)
	for _, m := range modes {
		if m.attach != attachCollector {
			continue
		}
		var generated []byte
		if m.configFile == "" {
			generated, _ = benchConfig(m.receiver)
		}
		files, _, err := writeConfigs(t.TempDir(), m.configFile, generated, target)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "validate", "--config", files[0], "--config", files[1]).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", m.name, err, out)
		}
	}
}
