//go:build linux

package tcpdropreceiver

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/tcpdrop/tcpdrop/internal/roottest"
)

// TestLifecycleWithTheKernel: the generated lifecycle test, with the real
// probe. Both pipelines attach one program, Shutdown detaches it, twice is
// fine; TestMain checks for leaked goroutines.
func TestLifecycleWithTheKernel(t *testing.T) {
	roottest.Require(t)
	cfg := createDefaultConfig()
	lr, mr := createBoth(t, cfg, new(consumertest.LogsSink), new(consumertest.MetricsSink))
	host := componenttest.NewNopHost()
	before := heldProbePrograms(t, os.Getpid())

	require.NoError(t, lr.Start(context.Background(), host))
	require.NoError(t, mr.Start(context.Background(), host))
	require.Equal(t, before+1, heldProbePrograms(t, os.Getpid()), "logs and metrics pipelines attach one program")

	require.NoError(t, lr.Shutdown(context.Background()))
	require.NoError(t, mr.Shutdown(context.Background()))
	require.NoError(t, mr.Shutdown(context.Background()))
	require.Equal(t, before, heldProbePrograms(t, os.Getpid()), "Shutdown detaches the program")
}
