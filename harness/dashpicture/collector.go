// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/collector"
)

// collectorConfig exports the metrics to VictoriaMetrics. Log records go
// nowhere, but are made: at most 10 a second, so that the drops of the
// scenario's busiest moments are shed, and the panel of events shed shows
// it (their counts stay exact).
const collectorConfig = `receivers:
  tcp_drop:
    collection_interval: %s
    max_log_records_per_second: 10
exporters:
  otlp_http/victoriametrics:
    metrics_endpoint: %s
  nop:
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [tcp_drop]
      exporters: [otlp_http/victoriametrics]
    logs:
      receivers: [tcp_drop]
      exporters: [nop]
`

// stopCollector asks the collector to exit and waits for it (at most 30s,
// then it is killed).
func stopCollector(c *collector.Process) error {
	if _, err := c.Stop(30 * time.Second); err != nil {
		c.Kill()
		return fmt.Errorf("collector: %w\n%s", err, c.Log(4000))
	}
	return nil
}
