// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package tcpdropreceiver

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// TestNotLinux: elsewhere the receiver refuses to be created, and says why.
func TestNotLinux(t *testing.T) {
	f := NewFactory()
	set := receivertest.NewNopSettings(metadata.Type)
	_, err := f.CreateLogs(context.Background(), set, f.CreateDefaultConfig(), consumertest.NewNop())
	require.ErrorContains(t, err, "only supported on linux")
	_, err = f.CreateMetrics(context.Background(), set, f.CreateDefaultConfig(), consumertest.NewNop())
	require.ErrorContains(t, err, "only supported on linux")
}
