// SPDX-License-Identifier: Apache-2.0

package hostname

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// In the host's namespace, the node's hostname is the process's own.
func TestNodeOnTheHost(t *testing.T) {
	want, err := os.Hostname()
	require.NoError(t, err)
	got, err := Node()
	require.NoError(t, err)
	require.Equal(t, want, got)
}
