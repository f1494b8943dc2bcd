// SPDX-License-Identifier: Apache-2.0

package tcpdropreceiver

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/receiver"

	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// NewFactory returns the factory of the tcp_drop receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		func() component.Config { return createDefaultConfig() },
		receiver.WithLogs(createLogs, metadata.LogsStability),
		receiver.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}
