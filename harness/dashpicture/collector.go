// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
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

type collector struct {
	cmd  *exec.Cmd
	log  string
	done chan error
}

// startCollector runs the collector bin with collectorConfig, its output
// in dir.
func startCollector(bin, dir, otlpURL string) (*collector, error) {
	cfg := filepath.Join(dir, "collector.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(collectorConfig, collectionInterval, otlpURL)), 0o600); err != nil {
		return nil, err
	}
	c := &collector{log: filepath.Join(dir, "collector.log"), done: make(chan error, 1)}
	out, err := os.Create(c.log)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	c.cmd = exec.Command(bin, "--config", cfg)
	c.cmd.Stdout, c.cmd.Stderr = out, out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.done <- c.cmd.Wait() }()
	return c, nil
}

// stop asks the collector to exit and waits for it (at most 30s).
func (c *collector) stop() error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		if err != nil {
			return fmt.Errorf("collector: %w\n%s", err, c.logTail())
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("collector: did not exit within 30s of SIGTERM")
	}
}

// logTail is the end of the collector's output.
func (c *collector) logTail() string {
	b, _ := os.ReadFile(c.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
