// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
)

// blockingLogs is an exporter that never finishes a push until its context
// ends.
type blockingLogs struct {
	pushed chan struct{} // closed at the first push
	once   *sync.Once
}

func (b blockingLogs) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (b blockingLogs) ConsumeLogs(ctx context.Context, _ plog.Logs) error {
	b.once.Do(func() { close(b.pushed) })
	<-ctx.Done()
	return ctx.Err()
}
