// SPDX-License-Identifier: Apache-2.0

package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// sinkExporter is the exporter the overlay adds; a name of its own, so a
// mode's config may have an otlp_http of its own.
const sinkExporter = "otlp_http/tcpdrop_bench"

// collectionInterval makes the counts arrive soon after a flood; it costs
// nothing on the path of a drop.
const collectionInterval = time.Second

// telemetryTarget is where a collector under test sends what the bench reads.
type telemetryTarget struct {
	SinkURL  string        // OTLP/HTTP base URL of the bench's sink
	PromPort int           // port of the collector's own Prometheus endpoint on 127.0.0.1
	Interval time.Duration // the receiver's collection_interval; 0: collectionInterval
	// Summaries sends the logs pipeline to the sink as well, which counts
	// the summary records of repeats: for modes that have few records.
	Summaries bool
}

// metricsPipeline is what the overlay needs of a mode's config.
type metricsPipeline struct {
	Receivers []string
	Exporters []string
	// LogsExporters are the logs pipeline's, if the config has one.
	LogsExporters []string
}

// readMetricsPipeline finds service.pipelines.metrics in a collector config.
func readMetricsPipeline(data []byte) (metricsPipeline, error) {
	var cfg struct {
		Service struct {
			Pipelines map[string]metricsPipeline `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return metricsPipeline{}, err
	}
	p, ok := cfg.Service.Pipelines["metrics"]
	p.LogsExporters = cfg.Service.Pipelines["logs"].Exporters
	if !ok {
		return p, errors.New("no service::pipelines::metrics: the bench reads the counts from the metrics pipeline")
	}
	if tcpDropReceiver(p.Receivers) == "" {
		return p, errors.New("the metrics pipeline has no tcp_drop receiver")
	}
	return p, nil
}

// isTCPDrop reports whether a component id is of type tcp_drop.
func isTCPDrop(id string) bool { return id == "tcp_drop" || strings.HasPrefix(id, "tcp_drop/") }

// tcpDropReceiver is the first tcp_drop receiver in list, or "".
func tcpDropReceiver(list []string) string {
	for _, id := range list {
		if isTCPDrop(id) {
			return id
		}
	}
	return ""
}

// overlay is the second config merged over a mode's own: the collector
// merges maps key by key but replaces lists, so the metrics pipeline's
// exporters are the mode's own followed by the sink.
func overlay(p metricsPipeline, t telemetryTarget) ([]byte, error) {
	receivers := map[string]any{}
	for _, r := range p.Receivers {
		if isTCPDrop(r) {
			interval := cmp.Or(t.Interval, collectionInterval)
			receivers[r] = map[string]any{"collection_interval": interval.String()}
		}
	}
	exporters := append(append([]string{}, p.Exporters...), sinkExporter)
	pipelines := map[string]any{"metrics": map[string]any{"exporters": exporters}}
	if t.Summaries && len(p.LogsExporters) > 0 {
		pipelines["logs"] = map[string]any{"exporters": append(append([]string{}, p.LogsExporters...), sinkExporter)}
	}
	doc := map[string]any{
		"receivers": receivers,
		"exporters": map[string]any{
			sinkExporter: map[string]any{"endpoint": t.SinkURL, "compression": "none"},
		},
		"service": map[string]any{
			"telemetry": map[string]any{
				"metrics": map[string]any{
					"level": "normal",
					"readers": []any{map[string]any{
						"pull": map[string]any{"exporter": map[string]any{"prometheus": map[string]any{
							"host": "127.0.0.1", "port": t.PromPort,
						}}},
					}},
				},
			},
			"pipelines": pipelines,
		},
	}
	return yaml.Marshal(doc)
}

// receiverSettings are the tcp_drop keys a generated bench config sets;
// zero values leave the receiver's defaults.
type receiverSettings struct {
	WakeupBytes int
	// MaxLogRecords is max_log_records_per_second; negative leaves the default.
	MaxLogRecords int
	// PerDrop sets log_records_per_key 0: a record per drop, up to
	// max_log_records_per_second.
	PerDrop bool
	// CountOnly leaves the logs pipeline out: the kernel sends no events.
	CountOnly bool
}

// benchConfig is the config of the bench's own collector modes: tcp_drop in
// a logs and a metrics pipeline, both to the nop exporter, no processors,
// so that what is measured is the receiver.
func benchConfig(s receiverSettings) ([]byte, error) {
	rcv := map[string]any{}
	if s.WakeupBytes > 0 {
		rcv["wakeup_bytes"] = s.WakeupBytes
	}
	if s.MaxLogRecords >= 0 {
		rcv["max_log_records_per_second"] = s.MaxLogRecords
	}
	if s.PerDrop {
		rcv["log_records_per_key"] = 0
	}
	pipelines := map[string]any{
		"logs":    map[string]any{"receivers": []string{"tcp_drop"}, "exporters": []string{"nop"}},
		"metrics": map[string]any{"receivers": []string{"tcp_drop"}, "exporters": []string{"nop"}},
	}
	if s.CountOnly {
		delete(pipelines, "logs")
	}
	doc := map[string]any{
		"receivers": map[string]any{"tcp_drop": rcv},
		"exporters": map[string]any{"nop": nil},
		"service": map[string]any{
			"telemetry": map[string]any{"logs": map[string]any{"level": "warn"}},
			"pipelines": pipelines,
		},
	}
	return yaml.Marshal(doc)
}

// writeConfigs writes a mode's config (base: a file of the user's, or
// generated when generated is set) and its overlay into dir, and returns
// the --config arguments in merge order and the tcp_drop receiver's id.
func writeConfigs(dir, base string, generated []byte, t telemetryTarget) (files []string, receiver string, err error) {
	data := generated
	if data == nil {
		if data, err = os.ReadFile(base); err != nil {
			return nil, "", err
		}
	} else {
		base = filepath.Join(dir, "base.yaml")
		if err := os.WriteFile(base, data, 0o600); err != nil {
			return nil, "", err
		}
	}
	p, err := readMetricsPipeline(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", base, err)
	}
	ov, err := overlay(p, t)
	if err != nil {
		return nil, "", err
	}
	ovPath := filepath.Join(dir, "bench-overlay-"+strconv.Itoa(t.PromPort)+".yaml")
	if err := os.WriteFile(ovPath, ov, 0o600); err != nil {
		return nil, "", err
	}
	return []string{base, ovPath}, tcpDropReceiver(p.Receivers), nil
}
