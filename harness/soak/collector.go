// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// collector is the running collector under the soak.
type collector struct {
	cmd       *exec.Cmd
	log       string // its stdout and stderr
	telemetry string // its own metrics, Prometheus text
	exited    chan struct{}
	waitErr   error
	stopped   bool
}

// overlay amends the example config: the logs to the nop exporter, the
// metrics to the soak's sink, the collector's own telemetry on a port of
// its own, and the series expiry.
const overlay = `receivers:
  tcp_drop:
    series_expiry: %s
exporters:
  nop:
  otlp_http/soak:
    endpoint: %s
    compression: none
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
  pipelines:
    logs:
      exporters: [nop]
    metrics:
      exporters: [otlp_http/soak]
`

func startCollector(o options, dir, sinkURL string) (*collector, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	ov := filepath.Join(dir, "overlay.yaml")
	if err := os.WriteFile(ov, []byte(fmt.Sprintf(overlay, o.seriesExpiry, sinkURL, port)), 0o600); err != nil {
		return nil, err
	}
	c := &collector{log: filepath.Join(dir, "collector.log"), telemetry: fmt.Sprintf("http://127.0.0.1:%d/metrics", port), exited: make(chan struct{})}
	logf, err := os.Create(c.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	c.cmd = exec.Command(o.collector, "--config", o.config, "--config", ov)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	// It must not outlive the soak.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the collector %s: %w", o.collector, err)
	}
	go func() { c.waitErr = c.cmd.Wait(); close(c.exited) }()
	return c, nil
}

func (c *collector) pid() int { return c.cmd.Process.Pid }

// stop ends the collector with SIGTERM, as a service manager would, and
// waits for it (20 s at most, then SIGKILL).
func (c *collector) stop() error {
	if c.stopped {
		return nil
	}
	c.stopped = true
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		return fmt.Errorf("the collector did not stop within 20 s of SIGTERM")
	}
	if c.waitErr != nil {
		return fmt.Errorf("the collector: %w", c.waitErr)
	}
	return nil
}

// logTail is the end of the collector's log.
func (c *collector) logTail() string {
	b, _ := os.ReadFile(c.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// rssBytes is the collector's resident set size, from /proc.
func (c *collector) rssBytes() (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.pid()) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, err := strconv.ParseUint(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", c.pid())
}

// freePort is a TCP port on 127.0.0.1 free at the moment.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
