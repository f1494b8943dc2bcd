// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
)

// TestCollectorWithoutPrivileges: run as an ordinary user, the collector
// does not start, and says what is missing and how to grant it.
func TestCollectorWithoutPrivileges(t *testing.T) {
	roottest.Require(t) // to switch to another user
	collector := buildCollector(t)
	dir := t.TempDir()
	// The other user must be able to read the configuration.
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	config := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(config, []byte(`
receivers:
  tcp_drop:
exporters:
  nop:
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [tcp_drop]
      exporters: [nop]
`), 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, collector, "--config", config)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()

	var exit *exec.ExitError
	require.ErrorAsf(t, err, &exit, "the collector should exit with an error:\n%s", out)
	require.Contains(t, string(out), "not permitted to load eBPF programs")
	require.Contains(t, string(out), "setcap cap_bpf,cap_perfmon")
}
