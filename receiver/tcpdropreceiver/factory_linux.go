// SPDX-License-Identifier: Apache-2.0

package tcpdropreceiver

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
)

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	r, err := sharedReceiver(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	r.logs = next
	return sharedComponent{r}, nil
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	r, err := sharedReceiver(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	r.metrics = next
	return sharedComponent{r}, nil
}
