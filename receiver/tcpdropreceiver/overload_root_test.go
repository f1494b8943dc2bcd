// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// envSlowServer makes TestHelperSlowServer, run in a process of its own, a
// server as users write one: net.Listen with Go's defaults (the backlog is
// the namespace's somaxconn; an MPTCP listener where the kernel has MPTCP,
// unless GODEBUG=multipathtcp=0), an accept loop that takes one connection
// every accept interval.
const envSlowServer = "TCPDROP_RECEIVER_SLOW_SERVER"

// TestHelperSlowServer is not a test: run by startSlowServer, it listens on
// the address of $TCPDROP_RECEIVER_SLOW_SERVER ("addr interval"), prints
// "listening <addr>" and accepts one connection per interval, closing it,
// until its stdin closes or it is killed.
func TestHelperSlowServer(t *testing.T) {
	spec := os.Getenv(envSlowServer)
	if spec == "" {
		t.Skip("a helper process of the overload tests, not a test")
	}
	var addr string
	var every time.Duration
	if _, err := fmt.Sscan(spec, &addr, &every); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("listening", l.Addr())
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		os.Exit(0)
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(1)
		}
		c.Close()
		time.Sleep(every) // pacing: the slow server is what overloads its queue
	}
}

// slowServer is a TestHelperSlowServer process.
type slowServer struct {
	cmd  *exec.Cmd
	addr netip.AddrPort
	stop func() // closes its stdin: it exits
}

// startSlowServer starts TestHelperSlowServer in a new process born in ns,
// listening on addr and accepting one connection per every, and returns
// once it listens. env is added to its environment.
func startSlowServer(t *testing.T, ns *sandbox.Netns, addr string, every time.Duration, env ...string) *slowServer {
	t.Helper()
	cmd := helperProcess(t, "TestHelperSlowServer", fmt.Sprintf("%s=%s %s", envSlowServer, addr, every), env...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, ns.Do(cmd.Start))
	var once sync.Once
	s := &slowServer{cmd: cmd, stop: func() { once.Do(func() { _ = stdin.Close(); _ = cmd.Wait() }) }}
	t.Cleanup(func() { _ = cmd.Process.Kill(); s.stop() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	fields := strings.Fields(line)
	require.True(t, len(fields) == 2 && fields[0] == "listening", "the slow server said %q (%v)", line, err)
	s.addr = netip.MustParseAddrPort(fields[1])
	return s
}

// setSomaxconn sets the namespace's net.core.somaxconn: the backlog of a
// Go server's net.Listen.
func setSomaxconn(t *testing.T, ns *sandbox.Netns, n int) {
	t.Helper()
	require.NoError(t, ns.Do(func() error {
		return os.WriteFile("/proc/sys/net/core/somaxconn", []byte(fmt.Sprintln(n)), 0)
	}))
}

// listenOverflows is the namespace's TcpExt:ListenOverflows.
func listenOverflows(t *testing.T, ns *sandbox.Netns) int64 {
	t.Helper()
	n, err := ns.Netstat()
	require.NoError(t, err)
	return int64(n["TcpExt:ListenOverflows"])
}

// overloadReport is what the receiver reported of a namespace's listen
// overflows: in log records and in tcp_drop.packets, for its servers.
type overloadReport struct {
	records, metric int64 // of the servers
	other           int64 // records of the namespace with another owner, or none
}

// reportedOverflows is the report of ns's overflows for the servers pids,
// and the records of each.
func reportedOverflows(logs *consumertest.LogsSink, metrics *consumertest.MetricsSink, ns *sandbox.Netns, pids []int) (overloadReport, map[int64]int64) {
	var r overloadReport
	per := map[int64]int64{}
	isServer := func(pid int64) bool { return slices.Contains(pids, int(pid)) }
	for _, lr := range sinkRecords(logs, func(at map[string]any) bool { return attrInt(at, attrNetns) == int64(ns.Inode()) }) {
		at := lr.Attributes().AsRaw()
		v, ok := at[attrOverflows]
		if !ok {
			continue
		}
		if pid := attrInt(at, attrPID); isServer(pid) {
			r.records += v.(int64)
			per[pid] += v.(int64)
		} else {
			r.other += v.(int64)
		}
	}
	r.metric = sinkTotal(metrics, packetsName, func(dp pmetric.NumberDataPoint) bool {
		a := dp.Attributes().AsRaw()
		return isServer(attrInt(a, attrPID)) && a[attrReason] == listenOverflowReason
	})
	return r, per
}

// requireHandshakeRetransmits: the other face of the servers' overflows,
// the handshakes sent again: the clients' SYNs (a full accept queue drops
// new SYNs) under this process's pid, the servers' SYN-ACKs (a handshake
// whose last ACK found the queue full is answered again) under theirs.
// The receiver started while the overload did (in a slow guest, after the
// first SYNs were sent again): what was sent again before its programs
// were attached is the kernel's alone, so its count lies between the
// namespace's TcpExt:TCPSynRetrans growth since the receiver had started
// (sinceStart) and since before the servers did (sinceBefore). On loopback
// the ACK follows the SYN-ACK at once, so nearly every overflow is a SYN's
// and the SYN-ACKs are few or none; across a network, the handshakes in
// flight as the queue fills overflow on their ACK.
func requireHandshakeRetransmits(t *testing.T, metrics *consumertest.MetricsSink, ns *sandbox.Netns, before, started map[string]uint64, servers []int) {
	t.Helper()
	me := int64(os.Getpid())
	retransmitted := func(reason string, owners ...int64) int64 {
		return sinkTotal(metrics, retransmitsName, func(dp pmetric.NumberDataPoint) bool {
			at := dp.Attributes().AsRaw()
			return at[attrReason] == reason && slices.Contains(owners, attrInt(at, attrPID))
		})
	}
	var serverPIDs []int64
	for _, pid := range servers {
		serverPIDs = append(serverPIDs, int64(pid))
	}
	var sinceBefore, sinceStart, synAcks, syns int64
	within := func() bool {
		n, err := ns.Netstat()
		require.NoError(t, err)
		sinceBefore = int64(n["TcpExt:TCPSynRetrans"] - before["TcpExt:TCPSynRetrans"])
		sinceStart = int64(n["TcpExt:TCPSynRetrans"] - started["TcpExt:TCPSynRetrans"])
		synAcks, syns = retransmitted("SYN_ACK", serverPIDs...), retransmitted("SYN", me)
		return sinceStart <= synAcks+syns && synAcks+syns <= sinceBefore
	}
	for deadline := time.Now().Add(10 * time.Second); !within(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("tcp_drop.retransmits: the servers' SYN-ACKs %d + the clients' SYNs %d, want between %d and %d (TcpExt:TCPSynRetrans since the receiver started, since before the servers)",
				synAcks, syns, sinceStart, sinceBefore)
		}
	}
	t.Logf("TcpExt:TCPSynRetrans +%d (+%d since the receiver started): the servers' SYN-ACKs %d, the clients' SYNs %d",
		sinceBefore, sinceStart, synAcks, syns)
}

// TestOverloadedGoServerIsCountedExactly: a Go server with backlog 8 (the
// namespace's somaxconn) that accepts one connection every 20 ms, hundreds
// of clients at once, the receiver started at the same moment. Every
// overflow the kernel counted in the namespace (TcpExt:ListenOverflows) is
// reported once, for the server's pid, in the records and tcp_drop.packets;
// also when the server is killed right after its overload, and with MPTCP
// off. The SYNs and SYN-ACKs sent again are counted for their owners, from
// the receiver's start.
func TestOverloadedGoServerIsCountedExactly(t *testing.T) {
	roottest.Require(t)
	cases := []struct {
		name, listen string
		servers      int
		kill         bool
		env          []string
	}{
		{"lives on", "127.0.0.1:0", 1, false, nil},
		{"killed", "127.0.0.1:0", 1, true, nil},
		{"lives on IPv6", "[::1]:0", 1, false, nil},
		{"killed no MPTCP", "127.0.0.1:0", 1, true, []string{"GODEBUG=multipathtcp=0"}},
		{"two servers killed", "127.0.0.1:0", 2, true, nil},
		{"two servers IPv6 no MPTCP", "[::1]:0", 2, false, []string{"GODEBUG=multipathtcp=0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The collector creates its receiver, then starts it while the
			// servers start and are overloaded.
			logs, metrics, start, _ := newKernelReceiver(t)
			ns := sandbox.NewForTest(t)
			if strings.HasPrefix(c.listen, "[") && !ns.HasIPv6() {
				t.Skip("no IPv6 in this kernel")
			}
			setSomaxconn(t, ns, 8)
			before, err := ns.Netstat()
			require.NoError(t, err)
			started := make(chan struct{})
			var atStart map[string]uint64 // the namespace's counters once the receiver started
			go func() {
				start()
				atStart, _ = ns.Netstat()
				close(started)
			}()
			var servers []*slowServer
			var pids []int
			var clients []int
			for range c.servers {
				srv := startSlowServer(t, ns, c.listen, 20*time.Millisecond, c.env...)
				servers, pids = append(servers, srv), append(pids, srv.cmd.Process.Pid)
				fds, err := ns.StartConnects(srv.addr, 400/c.servers)
				require.NoError(t, err)
				clients = append(clients, fds...)
			}
			time.Sleep(2 * time.Second) // the overload, and one round of SYN retransmissions
			// A server killed before the receiver has even started (in a
			// slow guest, Start takes longer than the overload) leaves no
			// trace of its owner to find: killed once it has started.
			<-started
			require.NotNil(t, atStart, "the namespace's counters as the receiver started")
			if c.kill {
				for _, srv := range servers {
					require.NoError(t, srv.cmd.Process.Kill())
					srv.stop()
				}
			}
			for _, fd := range clients {
				// A reset, not a FIN: the servers' pending handshakes end
				// instead of retransmitting SYN-ACKs (and overflowing) on.
				_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
				_ = unix.Close(fd)
			}

			// Settled: the kernel's count the same 300 ms apart, and the
			// reports equal to it.
			var kernel int64
			var want, got overloadReport
			var each map[int64]int64
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
				before := listenOverflows(t, ns)
				time.Sleep(300 * time.Millisecond) // quiet is what is waited for
				got, each = reportedOverflows(logs, metrics, ns, pids)
				kernel = listenOverflows(t, ns)
				want = overloadReport{records: kernel, metric: kernel}
				if kernel == before && got == want {
					break
				}
			}
			require.Positive(t, kernel, "no overflow: the test did not fill the accept queues")
			t.Logf("ListenOverflows %d; reported for the servers: records %d (each %v), tcp_drop.packets %d; records of another owner %d",
				kernel, got.records, each, got.metric, got.other)
			// Two servers that overflow in the same poll share by their
			// drop counts; in a slow guest one of them may not overflow at
			// all, so only the sum is the kernel's.
			require.Equal(t, want, got)
			requireHandshakeRetransmits(t, metrics, ns, before, atStart, pids)
		})
	}
}
