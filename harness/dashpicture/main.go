// SPDX-License-Identifier: Apache-2.0

// Command dashpicture makes README's picture of the dashboard on real data
// (make dashboard-picture, as root): it runs the collector with its metrics
// exported to a VictoriaMetrics server of its own, makes real drops of a
// few kinds for a few minutes (scenario.go), gives vmui the dashboard
// made from deploy/grafana/tcp_drop.json (harness/grafana: the Grafana
// dashboard stays the one source of the queries) and takes a screenshot of
// it with headless Chromium.
//
//	go run ./harness/dashpicture -collector _build/otelcol-tcpdrop \
//	    -victoriametrics PATH [-duration 4m] [-out docs/img/dashboard.png]
//
// Grafana cannot be installed here; vmui is the dashboard renderer that
// can. It draws every panel as a line chart, the tables' totals too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/backends"
	"github.com/tcpdrop/tcpdrop/harness/collector"
	"github.com/tcpdrop/tcpdrop/harness/grafana"
)

// collectionInterval is the picture's collector's: short, so that a few
// minutes make smooth lines; rateInterval ($__rate_interval) spans 6 of it.
const (
	collectionInterval = 5 * time.Second
	rateInterval       = "30s"
)

func main() {
	if role := os.Getenv(roleEnv); role != "" {
		if err := runOwner(role); err != nil {
			fmt.Fprintln(os.Stderr, "dashpicture owner:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.collector, "collector", "_build/otelcol-tcpdrop", "the collector (make build)")
	flag.StringVar(&o.victoriaMetrics, "victoriametrics", os.Getenv(backends.EnvVictoriaMetrics), "the victoria-metrics binary (make victoriametrics)")
	flag.StringVar(&o.chromium, "chromium", "chromium", "the Chromium browser (apt-get install chromium)")
	flag.StringVar(&o.dashboard, "dashboard", "deploy/grafana/tcp_drop.json", "the Grafana dashboard")
	flag.StringVar(&o.out, "out", "docs/img/dashboard.png", "the picture")
	flag.DurationVar(&o.duration, "duration", 4*time.Minute, "how long drops are made; the picture shows this span")
	flag.IntVar(&o.width, "width", 1400, "the browser window's width, CSS pixels")
	flag.IntVar(&o.maxBytes, "max-bytes", 450_000, "a picture larger than this is an error (README keeps it small)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		log.Fatal("dashpicture: ", err)
	}
}

type options struct {
	collector, victoriaMetrics, chromium, dashboard, out string
	duration                                             time.Duration
	width, maxBytes                                      int
}

func run(ctx context.Context, o options) (err error) {
	if err := checkPrerequisites(o); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tcpdrop-picture-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dashboards, err := writeDashboards(dir, o.dashboard)
	if err != nil {
		return err
	}

	vm, err := backends.StartVictoriaMetrics(o.victoriaMetrics, dashboards)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := vm.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
	}()
	cfg := fmt.Sprintf(collectorConfig, collectionInterval, vm.OTLPMetricsURL())
	col, err := collector.Start(o.collector, dir, []byte(cfg))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopCollector(col)) }()
	if err := waitFor(ctx, time.Minute, func() bool {
		s, err := vm.Query("tcp_drop_events_lost_total")
		return err == nil && len(s) > 0
	}); err != nil {
		return fmt.Errorf("no metrics from the collector in VictoriaMetrics: %w\n%s", err, col.Log(4000))
	}
	return picture(ctx, o, dir, vm)
}

// checkPrerequisites says what the run lacks: root, VictoriaMetrics or
// chromium.
func checkPrerequisites(o options) error {
	if os.Geteuid() != 0 {
		return errors.New("the collector loads eBPF programs and the drops are made in a network namespace: run as root")
	}
	if o.victoriaMetrics == "" {
		return fmt.Errorf("no VictoriaMetrics: -victoriametrics or %s (make victoriametrics installs it)", backends.EnvVictoriaMetrics)
	}
	if _, err := exec.LookPath(o.chromium); err != nil {
		return fmt.Errorf("%w (apt-get install chromium)", err)
	}
	return nil
}

// writeDashboards writes the dashboard, as VictoriaMetrics' UI reads it,
// into a dashboards directory under dir, and returns that directory.
func writeDashboards(dir, dashboard string) (string, error) {
	dash, err := grafana.Load(dashboard)
	if err != nil {
		return "", err
	}
	vmui, err := dash.Flat().VMUI(map[string]string{"host": ".*", "__rate_interval": rateInterval})
	if err != nil {
		return "", err
	}
	dashboards := filepath.Join(dir, "dashboards")
	if err := os.Mkdir(dashboards, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dashboards, "tcp_drop.json"), vmui, 0o644); err != nil {
		return "", err
	}
	return dashboards, nil
}

// picture makes the drops, waits until VictoriaMetrics has both processes'
// counts and screenshots the dashboard over the scenario's span.
func picture(ctx context.Context, o options, dir string, vm *backends.VictoriaMetrics) error {
	log.Printf("making drops for %v", o.duration)
	began := time.Now()
	if err := scenario(ctx, dir, o.duration); err != nil {
		return err
	}
	// The last counts, two collections later.
	time.Sleep(2*collectionInterval + time.Second)
	for _, who := range []string{webName, apiName} {
		s, err := vm.Query(fmt.Sprintf(`tcp_drop_packets_total{process_executable_name=%q}`, who))
		if err != nil || len(s) == 0 {
			return fmt.Errorf("no drops of %s in VictoriaMetrics (%w)", who, err)
		}
	}
	span := time.Since(began).Round(time.Minute) + time.Minute
	if err := screenshot(ctx, o.chromium, vm.DashboardsURL(span), o.width, o.out); err != nil {
		return err
	}
	info, err := os.Stat(o.out)
	if err != nil {
		return err
	}
	log.Printf("%s: %d bytes", o.out, info.Size())
	if info.Size() > int64(o.maxBytes) {
		return fmt.Errorf("%s is %d bytes, more than %d", o.out, info.Size(), o.maxBytes)
	}
	return nil
}

// waitFor polls cond every 500ms until it holds, for at most limit.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}
