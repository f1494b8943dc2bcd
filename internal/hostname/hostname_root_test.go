// SPDX-License-Identifier: Apache-2.0

package hostname

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
)

// childEnv makes the test binary the child of TestNodeInAContainer.
const childEnv = "TCPDROP_HOSTNAME_CHILD"

// TestNodeInAContainer: a process in a UTS namespace of its own, with a
// hostname of its own, as a container is, finds the host's.
func TestNodeInAContainer(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		child(t)
		return
	}
	roottest.Require(t)
	want, err := os.Hostname()
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestNodeInAContainer$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "own hostname tcpdrop-container, node "+want+"\n")
}

func child(t *testing.T) {
	require.NoError(t, unix.Sethostname([]byte("tcpdrop-container")))
	own, err := os.Hostname()
	require.NoError(t, err)
	got, err := Node()
	require.NoError(t, err)
	t.Logf("own hostname %s, node %s\n", own, strings.TrimSpace(got))
}
