// SPDX-License-Identifier: Apache-2.0

package terminalexporter

import (
	"context"
	"io"
	"os"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

var typ = component.MustNewType("terminal")

// Config is empty: the lines go to stdout, which a shell can redirect
// (the seed's file mode).
type Config struct{}

// NewFactory returns the factory of the terminal exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(typ,
		func() component.Config { return &Config{} },
		exporter.WithLogs(createLogs, component.StabilityLevelDevelopment),
		exporter.WithMetrics(createMetrics, component.StabilityLevelDevelopment),
	)
}

// stdout is shared by every instance, so that the logs' and the metrics'
// lines do not interleave.
var stdout = &lineWriter{w: os.Stdout}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	return exporterhelper.NewLogs(ctx, set, cfg, logsPrinter{out: stdout}.push)
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	return exporterhelper.NewMetrics(ctx, set, cfg, countsPrinter{out: stdout}.push)
}

// lineWriter writes whole blocks of lines, one block at a time.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) write(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.w.Write(b)
	return err
}
