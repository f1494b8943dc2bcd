// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tcpdrop/tcpdrop/harness/collector"
	"github.com/tcpdrop/tcpdrop/harness/otlpsink"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// The DaemonSet's capabilities (kubernetes/daemonset.yaml) are BPF, PERFMON,
// SYSLOG, SYS_PTRACE and SYS_ADMIN. Docker 20.10, the runtime here, does not
// know CAP_BPF and CAP_PERFMON by name ("unknown capability"), so the
// collector container gets the closest set it can grant: SYS_ADMIN, SYSLOG
// and SYS_PTRACE, and nothing else. The kernel lets CAP_SYS_ADMIN do what
// CAP_BPF and CAP_PERFMON allow (bpf_capable(), perfmon_capable()), so this
// set grants no more than the DaemonSet's. Not --privileged.
var collectorCaps = []string{"SYS_ADMIN", "SYSLOG", "SYS_PTRACE"}

const (
	collectorImage = "otelcol-tcpdrop:latest"
	listenerImage  = "tcpdrop-listener:test"
	serverPort     = 8080
)

// requireDocker skips the test when no docker daemon answers, or fails it
// with TCPDROP_REQUIRE_BPF=1 (CI, where .ci/run starts one).
func requireDocker(t *testing.T) {
	t.Helper()
	roottest.Require(t)
	out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err == nil {
		t.Logf("docker server %s", bytes.TrimSpace(out))
		return
	}
	msg := fmt.Sprintf("needs a docker daemon (docker info: %v: %s); start dockerd, or set %s=1 to make this a failure",
		err, bytes.TrimSpace(out), roottest.EnvRequire)
	if b, _ := strconv.ParseBool(os.Getenv(roottest.EnvRequire)); b {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// run runs a command and returns its combined output, failing the test if
// it fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoErrorf(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

// buildImages builds otelcol-tcpdrop:latest with `make image` and the
// listener's image (cmd/tcpdrop-listener, static, FROM scratch).
func buildImages(t *testing.T) {
	t.Helper()
	root := collector.RootForTest(t)
	run(t, root, nil, "make", "image")
	dir := t.TempDir()
	run(t, root, []string{"CGO_ENABLED=0"}, "go", "build", "-trimpath", "-o", filepath.Join(dir, "tcpdrop-listener"), "./cmd/tcpdrop-listener")
	dockerfile := "FROM scratch\nCOPY tcpdrop-listener /tcpdrop-listener\nENTRYPOINT [\"/tcpdrop-listener\"]\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644))
	run(t, dir, []string{"DOCKER_BUILDKIT=0"}, "docker", "build", "-q", "-t", listenerImage, ".")
}

// startContainer runs a container in the background and removes it at the
// end of the test; it returns its id.
func startContainer(t *testing.T, name string, args ...string) string {
	t.Helper()
	_ = exec.Command("docker", "rm", "-f", name).Run() // left over by a killed run
	id := run(t, "", nil, "docker", append([]string{"run", "-d", "--name", name}, args...)...)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("docker", "logs", "--tail", "50", name).CombinedOutput()
			t.Logf("docker logs %s:\n%s", name, out)
		}
		_ = exec.Command("docker", "rm", "-f", name).Run()
	})
	return id
}

func inspect(t *testing.T, name, format string) string {
	t.Helper()
	return run(t, "", nil, "docker", "inspect", "-f", format, name)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// collectorConfig exports both pipelines to the test's backend over OTLP,
// as an agent exports to the gateway, and serves health_check.
func collectorConfig(otlpURL string, healthPort int) string {
	return fmt.Sprintf(`extensions:
  health_check:
    endpoint: 127.0.0.1:%d
receivers:
  tcp_drop:
    collection_interval: 500ms
    log_records_per_key: 0  # a record per drop: the test counts them
    listen_queues:
      poll_interval: 200ms
exporters:
  otlp_http:
    endpoint: %s
    compression: none
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [tcp_drop]
      exporters: [otlp_http]
    metrics:
      receivers: [tcp_drop]
      exporters: [otlp_http]
`, healthPort, otlpURL)
}

// TestCollectorInContainer runs the image as the DaemonSet runs it: the
// host's pid namespace, a cgroup namespace of its own, /sys read-only, the
// capabilities above. A server container (its own network namespace) has
// SYNs to its port dropped by an nft rule in that namespace; every record
// of those drops sits under a Resource naming the server's process (its
// host pid) and the container id docker reports, and tcp_drop.packets for
// that owner equals the rule's counter. Without the capabilities the
// collector exits with the error that says what is missing.
func TestCollectorInContainer(t *testing.T) {
	requireDocker(t)
	buildImages(t)
	suffix := strconv.Itoa(os.Getpid())

	serverID := startContainer(t, "tcpdrop-test-server-"+suffix, "--network=none", listenerImage,
		"-listen", fmt.Sprintf("127.0.0.1:%d", serverPort))
	serverPID, err := strconv.Atoi(inspect(t, serverID, "{{.State.Pid}}"))
	require.NoError(t, err)
	require.Len(t, serverID, 64)
	t.Logf("server container %s, pid %d", serverID, serverPID)

	backend := otlpsink.ForTest(t, otlpsink.HTTP)
	healthPort := freePort(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(config, []byte(collectorConfig(backend.URL, healthPort)), 0o644))
	args := []string{"--pid=host", "--network=host", "--cgroupns=private", "--cap-drop=ALL"}
	for _, c := range collectorCaps {
		args = append(args, "--cap-add="+c)
	}
	args = append(args, "-v", "/sys:/sys:ro", "-v", config+":/etc/otelcol/config.yaml:ro", collectorImage)
	collectorID := startContainer(t, "tcpdrop-test-collector-"+suffix, args...)

	// The collector's cgroup namespace is its own: the kernel writes the
	// server's cgroups relative to it, and the collector makes them the
	// host's again (internal/owners).
	collectorPID := inspect(t, collectorID, "{{.State.Pid}}")
	hostNS, err := os.Readlink("/proc/self/ns/cgroup")
	require.NoError(t, err)
	collectorNS, err := os.Readlink("/proc/" + collectorPID + "/ns/cgroup")
	require.NoError(t, err)
	require.NotEqual(t, hostNS, collectorNS, "the collector container shares the host's cgroup namespace: the test proves nothing")

	// Ready: health_check answers, as the DaemonSet's probes ask it.
	health := fmt.Sprintf("http://127.0.0.1:%d/", healthPort)
	require.Eventually(t, func() bool {
		resp, err := http.Get(health)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 100*time.Millisecond, "health_check never answered 200")

	ns, err := sandbox.Open(fmt.Sprintf("/proc/%d/ns/net", serverPID))
	require.NoError(t, err)
	defer ns.Close()
	isServer := func(res map[string]any) bool { return otlpsink.Int(res, "process.pid") == int64(serverPID) }

	// The collector knows the listener, and its owner, once its gauge is
	// under the server's Resource.
	listening := func(r otlpsink.Point) bool {
		return isServer(r.Resource) && otlpsink.Int(r.Attrs, "network.local.port") == serverPort && otlpsink.Int(r.Attrs, "tcp_drop.netns.inode") == int64(ns.Inode())
	}
	require.Eventually(t, func() bool { _, ok := backend.Last("tcp_drop.listen.queue.limit", listening); return ok },
		30*time.Second, 100*time.Millisecond, "no listen-queue gauge for the server's listener")

	rule, err := ns.DropTCPPort(serverPort)
	require.NoError(t, err)
	const syns = 20
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), serverPort)
	require.NoError(t, ns.ConnectTimeout(addr, syns, 50*time.Millisecond))
	dropped, err := rule.Packets()
	require.NoError(t, err)
	require.GreaterOrEqual(t, dropped, uint64(syns), "the rule dropped every SYN")

	ours := func(r otlpsink.Record) bool {
		return otlpsink.Int(r.Attrs, "tcp_drop.netns.inode") == int64(ns.Inode()) && otlpsink.Int(r.Attrs, "destination.port") == serverPort
	}
	serverDrops := func(r otlpsink.Point) bool {
		return isServer(r.Resource) && r.Attrs["tcp_drop.reason"] == "NETFILTER_DROP"
	}
	require.Eventually(t, func() bool {
		n, _ := backend.Last("tcp_drop.packets", serverDrops)
		return len(backend.Records(ours)) >= int(dropped) && n >= int64(dropped)
	}, 30*time.Second, 100*time.Millisecond, "the drops did not arrive")
	time.Sleep(time.Second) // two collections more: any extra would show

	hostCgroup, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", serverPID))
	require.NoError(t, err)
	records := backend.Records(ours)
	require.Len(t, records, int(dropped), "one record per packet the rule dropped")
	host, err := os.Hostname()
	require.NoError(t, err)
	for _, r := range records {
		require.Equal(t, host, r.Resource["host.name"], "the node's hostname, not the container's")
		require.Equal(t, int64(serverPID), otlpsink.Int(r.Resource, "process.pid"), "the server's process, as the host numbers it")
		require.Equal(t, serverID, r.Resource["container.id"], "the container id docker reports")
		require.Equal(t, "tcpdrop-listene", r.Resource["process.executable.name"])
		require.Contains(t, string(hostCgroup), "::"+r.Resource["process.linux.cgroup"].(string)+"\n", "the cgroup as the host names it")
		require.Equal(t, "NETFILTER_DROP", r.Attrs["tcp_drop.reason"])
		require.Equal(t, "process", r.Attrs["tcp_drop.owner"])
		require.Equal(t, "SYN", r.Attrs["tcp_drop.tcp_flags"])
	}
	packets, _ := backend.Last("tcp_drop.packets", serverDrops)
	require.Equal(t, int64(dropped), packets, "tcp_drop.packets for the server's Resource equals the nft counter")
	t.Logf("nft counter %d, records %d (all under pid %d, container %s), tcp_drop.packets %d", dropped, len(records), serverPID, serverID[:12], packets)

	// It found its cgroup namespace's place in the host's (no warning).
	logs := run(t, "", nil, "docker", "logs", collectorID)
	require.NotContains(t, logs, "cgroup paths are reported as")
	require.Contains(t, logs, "tcp_drop: attached to the kfree_skb tracepoint")

	if status, err := os.ReadFile("/proc/" + collectorPID + "/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmRSS") || strings.HasPrefix(line, "VmHWM") {
				t.Logf("collector container %s", strings.Join(strings.Fields(line), " "))
			}
		}
	}
}

// TestCollectorInContainerWithoutCapabilities: with no capabilities the
// collector stops at start and says what is missing.
func TestCollectorInContainerWithoutCapabilities(t *testing.T) {
	requireDocker(t)
	buildImages(t)
	name := "tcpdrop-test-nocaps-" + strconv.Itoa(os.Getpid())
	_ = exec.Command("docker", "rm", "-f", name).Run()
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "run", "--name", name, "--pid=host", "--network=none", "--cap-drop=ALL", collectorImage).CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the collector must exit with an error: %s", out)
	require.NotEqual(t, 0, exit.ExitCode())
	require.Contains(t, string(out), "tcp_drop: not permitted to load eBPF programs: run as root, or give the binary CAP_BPF and CAP_PERFMON")
}
