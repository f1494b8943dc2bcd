//go:build linux

package tcpdropreceiver

import (
	"context"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
)

// blockingLogs is an exporter that never finishes a push until its context
// ends.
type blockingLogs struct{ pushed chan struct{} }

func (b blockingLogs) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (b blockingLogs) ConsumeLogs(ctx context.Context, _ plog.Logs) error {
	close(b.pushed)
	<-ctx.Done()
	return ctx.Err()
}
