// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package tcpdropreceiver

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
)

var errNotLinux = errors.New("the tcp_drop receiver is only supported on linux: it attaches an eBPF program to the Linux kernel")

func createLogs(context.Context, receiver.Settings, component.Config, consumer.Logs) (receiver.Logs, error) {
	return nil, errNotLinux
}

func createMetrics(context.Context, receiver.Settings, component.Config, consumer.Metrics) (receiver.Metrics, error) {
	return nil, errNotLinux
}
