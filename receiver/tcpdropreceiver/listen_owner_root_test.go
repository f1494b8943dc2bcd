// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// envHelperServer makes TestHelperServer, run in a process of its own, a
// server listening on the address it holds.
const envHelperServer = "TCPDROP_RECEIVER_TEST_SERVER"

// TestHelperServer is not a test: run as a process of its own by
// startHelperServer, it listens on $TCPDROP_RECEIVER_TEST_SERVER, says
// "listening" and holds the socket until its stdin closes (30 s at most).
func TestHelperServer(t *testing.T) {
	addr := os.Getenv(envHelperServer)
	if addr == "" {
		t.Skip("a helper process of TestNewListenersRecordsCarryItsPID, not a test")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("listening")
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
	l.Close()
	os.Exit(0)
}

// helperProcess is this test binary run again as a process of its own
// that runs only the test named helper (a TestHelper... that acts as a
// server or client when env, "KEY=value", is set), with extra added to its
// environment.
func helperProcess(t *testing.T, helper, env string, extra ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self, "-test.run=^"+helper+"$")
	cmd.Env = append(append(os.Environ(), env), extra...)
	return cmd
}

// startHelperServer runs TestHelperServer in a new process born in ns and
// returns its pid once it listens on addr. It exits when the test ends.
func startHelperServer(t *testing.T, ns *sandbox.Netns, addr netip.AddrPort) int {
	t.Helper()
	cmd := helperProcess(t, "TestHelperServer", envHelperServer+"="+addr.String())
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	// Started from a thread inside ns, the server is born in it.
	require.NoError(t, ns.Do(cmd.Start))
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.Equal(t, "listening", strings.TrimSpace(line), "the helper server said %q (%v)", line, err)
	return cmd.Process.Pid
}

// TestNewListenersRecordsCarryItsPID: a receiver with the default
// listen-queue poll (1 s) runs; a server process starts listening in a new
// namespace whose firewall drops every SYN to it, and SYNs follow at once.
// Every log record of those drops carries the server's process.pid in its
// Resource, and tcp_drop.packets counts them for it, as many as the rule
// dropped.
func TestNewListenersRecordsCarryItsPID(t *testing.T) {
	roottest.Require(t)
	cfg := createDefaultConfig()
	cfg.CollectionInterval = 100 * time.Millisecond
	cfg.FlushInterval = 10 * time.Millisecond
	logs, metrics := new(consumertest.LogsSink), new(consumertest.MetricsSink)
	lr, mr := createBoth(t, cfg, logs, metrics)
	require.NoError(t, lr.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, mr.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		require.NoError(t, lr.Shutdown(context.Background()))
		require.NoError(t, mr.Shutdown(context.Background()))
	})

	ns := sandbox.NewForTest(t)
	addr := netip.MustParseAddrPort("127.0.0.1:7190")
	rule, err := ns.DropTCPPort(addr.Port())
	require.NoError(t, err)
	// Time is the condition: the server must listen well after the
	// receiver's first poll, which nothing outside it shows.
	time.Sleep(1500 * time.Millisecond)
	pid := startHelperServer(t, ns, addr)
	require.NoError(t, ns.ConnectTimeout(addr, 5, 50*time.Millisecond))
	dropped, err := rule.Packets()
	require.NoError(t, err)
	require.GreaterOrEqual(t, dropped, uint64(5))

	ours := func(at map[string]any) bool {
		return at[attrKind] == "drop" && attrInt(at, attrNetns) == int64(ns.Inode()) && attrInt(at, attrDstPort) == int64(addr.Port())
	}
	forServer := func(dp pmetric.NumberDataPoint) bool { return attrInt(dp.Attributes().AsRaw(), attrPID) == int64(pid) }
	require.Eventually(t, func() bool {
		return len(sinkRecords(logs, ours)) >= int(dropped) && sinkTotal(metrics, packetsName, forServer) >= int64(dropped)
	}, 10*time.Second, 20*time.Millisecond, "the drops did not arrive")
	time.Sleep(300 * time.Millisecond) // any extra would show
	records := sinkRecords(logs, ours)
	require.Len(t, records, int(dropped), "one record per packet the rule dropped")
	for _, lr := range records {
		at := lr.Attributes().AsRaw()
		requireOwnedBy(t, at, pid, "the server's pid, in the record's Resource")
	}
	require.Equal(t, int64(dropped), sinkTotal(metrics, packetsName, forServer), "tcp_drop.packets for the server")
}
