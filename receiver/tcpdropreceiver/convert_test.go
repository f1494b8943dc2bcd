// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"flag"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/internal/listeners"
	"github.com/tcpdrop/tcpdrop/internal/owners"
	"github.com/tcpdrop/tcpdrop/internal/probe"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"

	"github.com/tcpdrop/tcpdrop/harness/fixture"
)

// -update rewrites the golden files from what the code produces; review
// the diff before committing it.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testHost is host.name in the converters' Resources, so that the golden
// files do not depend on this machine.
const testHost = "node-1"

// Addresses inside functions of the kallsyms fixture.
const (
	inTCPv4Rcv   = 0xffffffff81b2f9c0 + 0x63
	inBpfTrace   = 0xffffffff81300100 + 0xfc // tracepoint dispatch: left out of stacks
	inSkbDrop    = 0xffffffff81a3c500 + 0x90
	inNfHookSlow = 0xffffffff81ab3e30 + 0x12a
	unknownAddr  = 0xffffffff80001234 // below _stext: no function
)

// fixtureOwners resolves socket inodes from a table.
type fixtureOwners map[uint64]owners.Process

func (f fixtureOwners) Lookup(inode uint64, _ time.Time) (owners.Process, bool) {
	o, ok := f[inode]
	return o, ok
}

func (f fixtureOwners) Cached(inode uint64) (owners.Process, bool) {
	return f.Lookup(inode, time.Time{})
}

// The values of tcp_drop.owner as records carry them: strings, so that
// they compare equal to an attribute's value.
const (
	ownerProcess = string(drops.OwnerProcess)
	ownerNone    = string(drops.OwnerNone)
	ownerUnknown = string(drops.OwnerUnknown)
)

// Metrics the tests look for, by name.
const (
	packetsName        = "tcp_drop.packets"
	resetsName         = "tcp_drop.resets"
	retransmitsName    = "tcp_drop.retransmits"
	failedConnectsName = "tcp_drop.connects.failed"
	queueLimitName     = "tcp_drop.listen.queue.limit"
)

const (
	serverSocket  = 777 // owned by the server in a container
	unknownSocket = 888 // a socket no process holds
	clientSocket  = 999 // a client's, on the host
	containerID   = "3f4e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100"
)

// The server runs in a Kubernetes pod (containerd, systemd driver).
const (
	podUID     = "1f7e6a2b-8c1d-4e5f-9a0b-1c2d3e4f5a6b"
	podCgroup  = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f7e6a2b_8c1d_4e5f_9a0b_1c2d3e4f5a6b.slice"
	serverPath = podCgroup + "/cri-containerd-" + containerID + ".scope"
)

var testOwners = fixtureOwners{
	serverSocket: {PID: 4321, Comm: "server", CgroupPath: serverPath, ContainerID: containerID, PodUID: podUID},
	clientSocket: {PID: 1234, Comm: "nc", CgroupPath: "/user.slice"},
}

var dropTime = time.Date(2026, 2, 1, 15, 4, 23, 5000, time.UTC)

func comm(s string) (c [16]byte) { copy(c[:], s); return c }

func fixtureEvents() []probe.Event {
	return []probe.Event{
		{
			Time: dropTime, PID: 1234, TID: 1234, Comm: comm("nc"), Reason: 3, HasReason: true,
			Location: inTCPv4Rcv, TCPFlags: probe.FlagSYN, NetnsInode: 4026531840, Ifindex: 1, Ifname: comm("lo"),
			Src: netip.MustParseAddrPort("127.0.0.1:40000"), Dst: netip.MustParseAddrPort("127.0.0.1:9"),
			// With kernel_stack: innermost first.
			Stack: [probe.MaxStackDepth]uint64{inBpfTrace, inSkbDrop, inTCPv4Rcv}, StackDepth: 3,
		},
		{
			Time: dropTime.Add(time.Millisecond), PID: 5678, TID: 5679, Comm: comm("curl"), Reason: 12, HasReason: true,
			Location: inNfHookSlow, TCPFlags: probe.FlagACK | probe.FlagRST, NetnsInode: 4026532000, Ifindex: 2, Ifname: comm("eth0"),
			SocketInode: serverSocket, State: 1, // established
			Src: netip.MustParseAddrPort("[2001:db8::1]:51234"), Dst: netip.MustParseAddrPort("[2001:db8::2]:8080"),
		},
		{
			// A kernel without drop reasons, an address outside every
			// function, no interface.
			Time: dropTime.Add(2 * time.Millisecond), PID: 0, Comm: comm("swapper/1"),
			Location: unknownAddr, TCPFlags: probe.FlagFIN | probe.FlagACK, SocketInode: unknownSocket, State: 8, // close_wait
			Src: netip.MustParseAddrPort("10.0.0.1:443"), Dst: netip.MustParseAddrPort("10.0.0.2:33000"),
		},
	}
}

// fixtureResets are resets the host sent: one to a closed port, which has
// no socket, and the server's abort of a connection it closed unread.
func fixtureResets() []probe.Event {
	return []probe.Event{
		{
			Kind: probe.KindReset, Time: dropTime.Add(3 * time.Millisecond), PID: 1234, TID: 1234, Comm: comm("nc"),
			Reason: 1, HasReason: true, TCPFlags: probe.FlagACK | probe.FlagRST, NetnsInode: 4026531840, Ifindex: 1, Ifname: comm("lo"),
			Src: netip.MustParseAddrPort("127.0.0.1:9"), Dst: netip.MustParseAddrPort("127.0.0.1:40000"),
			// With kernel_stack: the program's own frame left out.
			Stack: [probe.MaxStackDepth]uint64{inBpfTrace, inTCPv4Rcv}, StackDepth: 2,
		},
		{
			Kind: probe.KindReset, Time: dropTime.Add(4 * time.Millisecond), PID: 4321, TID: 4321, Comm: comm("server"),
			Reason: 13, HasReason: true, TCPFlags: probe.FlagACK | probe.FlagRST, NetnsInode: 4026532000,
			SocketInode: serverSocket, State: 1, // established
			Src: netip.MustParseAddrPort("[2001:db8::2]:8080"), Dst: netip.MustParseAddrPort("[2001:db8::1]:51234"),
		},
	}
}

// fixtureRetransmits are a server's data sent again, three segments at
// once, and its listener's SYN-ACK sent again.
func fixtureRetransmits() []probe.Event {
	return []probe.Event{
		{
			Kind: probe.KindRetransmit, Packets: 3, Time: dropTime.Add(5 * time.Millisecond), PID: 0, TID: 0, Comm: comm("swapper/1"),
			Reason: uint32(probe.RetransmitData), HasReason: true, TCPFlags: probe.FlagACK | probe.FlagPSH, NetnsInode: 4026532000,
			SocketInode: serverSocket, State: 1, // established
			Src: netip.MustParseAddrPort("[2001:db8::2]:8080"), Dst: netip.MustParseAddrPort("[2001:db8::1]:51234"),
			Stack: [probe.MaxStackDepth]uint64{inBpfTrace, inTCPv4Rcv}, StackDepth: 2,
		},
		{
			Kind: probe.KindRetransmit, Packets: 1, Time: dropTime.Add(6 * time.Millisecond), PID: 0, TID: 0, Comm: comm("swapper/0"),
			Reason: uint32(probe.RetransmitSYNACK), HasReason: true, TCPFlags: probe.FlagSYN | probe.FlagACK, NetnsInode: 4026531840,
			SocketInode: serverSocket, State: 12, // its listener's; a request socket: syn_received
			Src: netip.MustParseAddrPort("127.0.0.1:8080"), Dst: netip.MustParseAddrPort("127.0.0.1:40002"),
		},
	}
}

// fixtureConnects is a client's connect refused.
func fixtureConnects() []probe.Event {
	return []probe.Event{{
		Kind: probe.KindConnectFailed, Packets: 1, Time: dropTime.Add(7 * time.Millisecond), PID: 1234, TID: 1234, Comm: comm("nc"),
		Reason: uint32(unix.ECONNREFUSED), HasReason: true, NetnsInode: 4026531840,
		SocketInode: clientSocket, State: 2, // syn_sent
		Src: netip.MustParseAddrPort("127.0.0.1:40003"), Dst: netip.MustParseAddrPort("127.0.0.1:9"),
		Stack: [probe.MaxStackDepth]uint64{inBpfTrace, inTCPv4Rcv}, StackDepth: 2,
	}}
}

// nameDrops gives events their owners and names as the engine does, with
// the fixtures.
func nameDrops(t testing.TB, events []probe.Event) []drops.Drop {
	namer := drops.NewNamer(fixture.LoadNames(t, notAvailable))
	out := make([]drops.Drop, len(events))
	for i := range events {
		out[i] = namer.Drop(&events[i], drops.FindOwner(testOwners, events[i].SocketInode, time.Now()))
	}
	return out
}

func TestLogsGolden(t *testing.T) {
	conv := newLogConverter("1.2.3", newResources(metadata.DefaultResourceAttributesConfig(), testHost))
	requireLogsGolden(t, "logs.yaml", conv.convert(nameDrops(t, slices.Concat(fixtureEvents(), fixtureResets(), fixtureRetransmits(), fixtureConnects())), dropTime.Add(time.Second)))
}

// requireLogsGolden compares got with testdata/<file>, or rewrites the file
// with -update.
func requireLogsGolden(t *testing.T, file string, got plog.Logs) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		require.NoError(t, golden.WriteLogs(t, path, got))
	}
	want, err := golden.ReadLogs(path)
	require.NoError(t, err)
	require.NoError(t, plogtest.CompareLogs(want, got))
}

func TestLogBodyLine(t *testing.T) {
	conv := newLogConverter("1.2.3", newResources(metadata.DefaultResourceAttributesConfig(), testHost))
	logs := conv.convert(nameDrops(t, fixtureEvents()[:2]), dropTime)
	// Two owners: two Resources, a record each.
	require.Equal(t, "Drop | PID: - (no owner) | Reason: NO_SOCKET | Function: tcp_v4_rcv+0x63 | 127.0.0.1:40000 -> 127.0.0.1:9 [SYN] | CPU: 1234 (nc)",
		logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
	require.Equal(t, "Drop | PID: 4321 (server) | Reason: NETFILTER_DROP | Function: nf_hook_slow+0x12a | [2001:db8::1]:51234 -> [2001:db8::2]:8080 [ACK|RST] | CPU: 5678 (curl)",
		logs.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords().At(0).Body().Str())

	logs = conv.convert(nameDrops(t, fixtureResets()), dropTime)
	require.Equal(t, "Reset | PID: - (no owner) | Reason: NO_SOCKET | 127.0.0.1:9 -> 127.0.0.1:40000 [ACK|RST] | CPU: 1234 (nc)",
		logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
	require.Equal(t, "Reset | PID: 4321 (server) | Reason: TCP_ABORT_ON_CLOSE | [2001:db8::2]:8080 -> [2001:db8::1]:51234 [ACK|RST] | CPU: 4321 (server)",
		logs.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
}

func fixtureCounts() probe.Counts {
	return probe.Counts{
		ByKey: []probe.Count{
			{Reason: 3, HasReason: true, Location: inTCPv4Rcv, Packets: 10},
			// The same function at another offset: one data point.
			{Reason: 3, HasReason: true, Location: inTCPv4Rcv + 0x40, Packets: 5},
			{SocketInode: serverSocket, Reason: 12, HasReason: true, State: 1, Location: inNfHookSlow, Packets: 9},
			{SocketInode: unknownSocket, Reason: 3, HasReason: true, State: 8, Location: inTCPv4Rcv, Packets: 1},
			// Resets: to closed ports, and the server's aborts.
			{Kind: probe.KindReset, Reason: 1, HasReason: true, Packets: 20},
			{Kind: probe.KindReset, SocketInode: serverSocket, Reason: 13, HasReason: true, State: 1, Packets: 3},
		},
		Uncounted: 2, Lost: 3, Shed: 4, Filtered: 6, Repeated: 7, Missed: 5,
	}
}

// testMetrics is the path of the kernel's counts to metrics: the engine's
// tally, with the fixtures, then the receiver's conversion.
type testMetrics struct {
	tally *drops.Tally
	conv  *metricsConverter
}

func (m testMetrics) addOverflows(who drops.Owner, n uint64) { m.tally.AddOverflows(who, n) }

func (m testMetrics) convert(c probe.Counts, ls []drops.Listener, now time.Time) pmetric.Metrics {
	return m.conv.convert(m.tally.Add(c, now), ls, now)
}

func newTestMetrics(t testing.TB, lookup drops.Owners, cfg metadata.MetricsBuilderConfig) testMetrics {
	return testMetrics{
		tally: drops.NewTally(fixture.LoadNames(t, notAvailable), lookup, 0),
		conv:  newMetricsConverter(cfg, receivertest.NewNopSettings(metadata.Type), testHost, dropTime),
	}
}

func newTestMetricsConverter(t testing.TB, attrs ...metadata.TCPDropPacketsMetricAttributeKey) testMetrics {
	cfg := metadata.NewDefaultMetricsBuilderConfig()
	if attrs != nil {
		cfg.Metrics.TCPDropPackets.EnabledAttributes = attrs
	}
	return newTestMetrics(t, testOwners, cfg)
}

// fixtureListeners: the server's listener, whose queue is full, and one
// whose owner is not known.
func fixtureListeners() []drops.Listener {
	return []drops.Listener{
		{Listener: listeners.Listener{Netns: 4026532000, Addr: netip.MustParseAddrPort("[::]:8080"), Inode: serverSocket, Backlog: 128, MaxBacklog: 128},
			Owner: drops.FindOwner(testOwners, serverSocket, time.Now())},
		{Listener: listeners.Listener{Netns: 4026531840, Addr: netip.MustParseAddrPort("127.0.0.1:5432"), Inode: unknownSocket, Backlog: 0, MaxBacklog: 4096},
			Owner: drops.FindOwner(testOwners, unknownSocket, time.Now())},
	}
}

func fixtureOverflows() []drops.Overflow {
	l := fixtureListeners()[0]
	return []drops.Overflow{{
		Overflow: listeners.Overflow{Listener: l.Listener, NewDrops: 12, Overflows: 12, ListenDrops: 12},
		Owner:    l.Owner,
	}}
}

// convertFixture converts the fixture counts, with 12 listen overflows of
// the server's listener, and the fixture listeners.
func convertFixture(m testMetrics, now time.Time) pmetric.Metrics {
	for _, o := range fixtureOverflows() {
		m.addOverflows(o.Owner, o.Overflows)
	}
	return m.convert(fixtureCounts(), fixtureListeners(), now)
}

func TestOverflowLogsGolden(t *testing.T) {
	conv := overflowConverter{logs: newLogConverter("1.2.3", newResources(metadata.DefaultResourceAttributesConfig(), testHost))}
	got := conv.convert(fixtureOverflows(), dropTime)
	require.Equal(t, "Listen overflow | PID: 4321 (server) | Listener: [::]:8080 | Refused: 12 | Accept queue: 128/128",
		got.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
	requireLogsGolden(t, "listen_logs.yaml", got)

	// A listener that had stopped listening by the poll: no queue left.
	closed := fixtureOverflows()[:1]
	closed[0].Closed = true
	got = conv.convert(closed, dropTime)
	require.Equal(t, "Listen overflow | PID: 4321 (server) | Listener: [::]:8080 (closed) | Refused: 12",
		got.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
}

func TestMetricsGolden(t *testing.T) {
	for _, tc := range []struct {
		file  string
		attrs []metadata.TCPDropPacketsMetricAttributeKey
	}{
		{"metrics.yaml", nil},
		// Only the reason kept: nc's 15 and the unknown owner's 1 are
		// summed as NO_SOCKET, the server's 9 as NETFILTER_DROP, its 12
		// overflows as TCP_LISTEN_OVERFLOW.
		{"metrics_reason_only.yaml", []metadata.TCPDropPacketsMetricAttributeKey{metadata.TCPDropPacketsMetricAttributeKeyTCPDropReason}},
		// The reason and the connection's state (opt-in): the server's
		// NETFILTER_DROP established, the unknown owner's NO_SOCKET
		// close_wait apart from nc's, which had no socket; the overflows
		// are the listener's.
		{"metrics_state.yaml", []metadata.TCPDropPacketsMetricAttributeKey{metadata.TCPDropPacketsMetricAttributeKeyTCPDropReason, metadata.TCPDropPacketsMetricAttributeKeyNetworkConnectionState}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := convertFixture(newTestMetricsConverter(t, tc.attrs...), dropTime.Add(10*time.Second))
			path := filepath.Join("testdata", tc.file)
			if *update {
				require.NoError(t, golden.WriteMetrics(t, path, got))
			}
			want, err := golden.ReadMetrics(path)
			require.NoError(t, err)
			// The golden writer normalizes timestamps: they are checked below.
			require.NoError(t, pmetrictest.CompareMetrics(want, got,
				pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreMetricsOrder(),
				pmetrictest.IgnoreTimestamp(), pmetrictest.IgnoreStartTimestamp()))
		})
	}
}

// TestMetricsTimestamps: every sum starts when counting began and is
// stamped with the collection time (the one gauge, the collection's
// delay, only stamped).
func TestMetricsTimestamps(t *testing.T) {
	now := dropTime.Add(10 * time.Second)
	md := newTestMetricsConverter(t).convert(fixtureCounts(), nil, now)
	metrics := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	require.Equal(t, 9, metrics.Len(), "the sums without owner, with tcp_drop.packets and tcp_drop.resets of the drops and resets without one")
	for i := 0; i < metrics.Len(); i++ {
		if metrics.At(i).Type() == pmetric.MetricTypeGauge {
			require.Equal(t, now, metrics.At(i).Gauge().DataPoints().At(0).Timestamp().AsTime(), metrics.At(i).Name())
			continue
		}
		points := metrics.At(i).Sum().DataPoints()
		require.Positive(t, points.Len())
		for j := 0; j < points.Len(); j++ {
			require.Equal(t, dropTime, points.At(j).StartTimestamp().AsTime(), metrics.At(i).Name())
			require.Equal(t, now, points.At(j).Timestamp().AsTime(), metrics.At(i).Name())
		}
	}
}

// TestMetricsKeepTheFirstOwner: once a socket's drops were counted for its
// owner, a later collection - after the socket closed and its owner can no
// longer be found - still counts them for that owner, so that no
// cumulative series goes down.
func TestMetricsKeepTheFirstOwner(t *testing.T) {
	owners := fixtureOwners{serverSocket: testOwners[serverSocket]}
	m := newTestMetrics(t, owners, metadata.NewDefaultMetricsBuilderConfig())
	counts := probe.Counts{ByKey: []probe.Count{
		{SocketInode: serverSocket, Reason: 12, HasReason: true, Location: inNfHookSlow, Packets: 3},
	}}
	serverPoints := func(md pmetric.Metrics) (total int64) {
		return sumOf(md, func(a map[string]any) bool { return a[attrPID] == int64(4321) && a[attrOwner] == ownerProcess })
	}
	require.Equal(t, int64(3), serverPoints(m.convert(counts, nil, dropTime)))

	delete(owners, serverSocket) // the socket closed: its owner is gone from /proc
	counts.ByKey[0].Packets = 2  // the drops since the last collection
	md := m.convert(counts, nil, dropTime.Add(time.Second))
	require.Equal(t, int64(5), serverPoints(md), "the server's series keeps growing")
	require.Zero(t, sumOf(md, func(a map[string]any) bool { return a[attrOwner] == ownerUnknown }), "nothing moved to unknown")
}

// sumOf adds up the tcp_drop.packets points whose attributes keep accepts.
func sumOf(md pmetric.Metrics, keep func(map[string]any) bool) int64 {
	total, _ := sumPoints(md, packetsName, func(dp pmetric.NumberDataPoint) bool { return keep(dp.Attributes().AsRaw()) })
	return total
}

// TestExpiredSeriesRestartTheirPoint: with the owner's attributes (on the
// data point and the Resource) switched off, one point sums the series of two owners; when one series expires
// the sum goes down, so the point starts again (a new start time) instead
// of a cumulative sum that decreases.
func TestExpiredSeriesRestartTheirPoint(t *testing.T) {
	cfg := metadata.NewDefaultMetricsBuilderConfig()
	cfg.Metrics.TCPDropPackets.EnabledAttributes = []metadata.TCPDropPacketsMetricAttributeKey{metadata.TCPDropPacketsMetricAttributeKeyTCPDropReason}
	for _, a := range []*metadata.ResourceAttributeConfig{&cfg.ResourceAttributes.ProcessPid, &cfg.ResourceAttributes.ProcessExecutableName,
		&cfg.ResourceAttributes.ProcessLinuxCgroup, &cfg.ResourceAttributes.ContainerID, &cfg.ResourceAttributes.K8sPodUID} {
		a.Enabled = false // the two owners' series share one Resource and one point
	}
	lookup := fixtureOwners{serverSocket: testOwners[serverSocket], 999: {PID: 55, Comm: "client"}}
	m := testMetrics{
		tally: drops.NewTally(fixture.LoadNames(t, notAvailable), lookup, 30*time.Second),
		conv:  newMetricsConverter(cfg, receivertest.NewNopSettings(metadata.Type), testHost, dropTime),
	}
	nf := func(ino, n uint64) probe.Counts {
		return probe.Counts{ByKey: []probe.Count{{SocketInode: ino, Reason: 12, HasReason: true, Location: inNfHookSlow, Packets: n}}}
	}
	point := func(md pmetric.Metrics) (int64, pcommon.Timestamp) {
		for i := 0; i < md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().Len(); i++ {
			if mt := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(i); mt.Name() == packetsName {
				dp := mt.Sum().DataPoints().At(0)
				return dp.IntValue(), dp.StartTimestamp()
			}
		}
		t.Fatal("no tcp_drop.packets")
		return 0, 0
	}
	at := func(s int) time.Time { return dropTime.Add(time.Duration(s) * time.Second) }
	m.convert(nf(serverSocket, 4), nil, at(10))
	if v, start := point(m.convert(nf(999, 3), nil, at(20))); v != 7 || start != pcommon.NewTimestampFromTime(dropTime) {
		t.Fatalf("both owners: %d since %v, want 7 since the start", v, start.AsTime())
	}
	v, start := point(m.convert(nf(999, 1), nil, at(40))) // the server's series expired
	if v != 4 || start != pcommon.NewTimestampFromTime(at(20)) {
		t.Fatalf("after the server's series expired: %d since %v, want 4 since the collection at 20s", v, start.AsTime())
	}
	if v, start := point(m.convert(nf(999, 1), nil, at(50))); v != 5 || start != pcommon.NewTimestampFromTime(at(20)) {
		t.Fatalf("then: %d since %v, want 5 since the collection at 20s", v, start.AsTime())
	}
}

// TestRepeatLogsGolden: the repeats of a collection, found by the engine's
// tally in the kernel's counts, become one summary record per key, under
// the key's owner, with the interval since the collection before.
func TestRepeatLogsGolden(t *testing.T) {
	tally := drops.NewTally(fixture.LoadNames(t, notAvailable), testOwners, 0)
	tally.Add(probe.Counts{}, dropTime)
	c := fixtureCounts()
	c.ByKey[0].Repeats = 8 // nc's closed port
	c.ByKey[2].Repeats = 4 // the server's firewalled port
	counts := tally.Add(c, dropTime.Add(10*time.Second))
	require.Len(t, counts.Repeats, 2)

	conv := repeatConverter{logs: newLogConverter("1.2.3", newResources(metadata.DefaultResourceAttributesConfig(), testHost))}
	got := conv.convert(counts.Repeats, dropTime.Add(11*time.Second))
	var sum int64
	for i := 0; i < got.ResourceLogs().Len(); i++ {
		records := got.ResourceLogs().At(i).ScopeLogs().At(0).LogRecords()
		for j := 0; j < records.Len(); j++ {
			v, ok := records.At(j).Attributes().Get(attrRepeats)
			require.True(t, ok)
			sum += v.Int()
			require.Contains(t, records.At(j).Body().Str(), fmt.Sprintf(" | %d more drops in 10s", v.Int()))
		}
	}
	require.Equal(t, int64(12), sum)
	requireLogsGolden(t, "repeat_logs.yaml", got)
}
