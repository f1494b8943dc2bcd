// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"context"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/dropgen"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/drops"
)

// TestRepeatsAddUpUnderFlood: with the default log_records_per_key and
// max_log_records_per_second, during a flood of SYNs to a closed port in a
// test namespace, SYNs that nft rules drop on their way to two listeners
// of this process, the logs filters keeping only one listener's port and
// the flood's:
//   - the logged listener's drops (its rule's counter) are its records plus
//     the repeats of its summary records, some of each, with no more records
//     than log_records_per_key per CPU and collection interval;
//   - the other listener's drops are neither records nor repeats, and the
//     two rules' counters are tcp_drop.packets of this process;
//   - at Shutdown, over every drop on the machine,
//     records + repeats + lost + shed + filtered = packets.
func TestRepeatsAddUpUnderFlood(t *testing.T) {
	roottest.Require(t)
	ns := sandbox.NewForTest(t)
	logged, loggedIno, loggedRule := firewalledSocket(t, ns)
	quiet, quietIno, quietRule := firewalledSocket(t, ns)
	const interval = time.Second
	perKey := drops.DefaultOptions().LogRecordsPerKey
	logs, metrics, shutdown := startKernelReceiver(t, func(cfg *Config) {
		cfg.LogRecordsPerKey = perKey
		cfg.MaxLogRecordsPerSecond = drops.DefaultOptions().MaxLogRecordsPerSecond
		cfg.CollectionInterval = interval
		cfg.Logs.Ports = []int{int(logged.Port()), dropgen.DefaultPort}
	})
	me := os.Getpid()
	waitForListener(t, metrics, ns, logged, me, 16)
	waitForListener(t, metrics, ns, quiet, me, 16)

	flooded := make(chan error, 1)
	var flood dropgen.Report
	go func() {
		var err error
		flood, err = dropgen.Run(context.Background(), ns, dropgen.Options{Duration: 3 * time.Second})
		flooded <- err
	}()
	start := time.Now()
	for range 4 {
		require.NoError(t, ns.ConnectTimeout(logged, 100, 100*time.Millisecond))
		require.NoError(t, ns.ConnectTimeout(quiet, 20, 100*time.Millisecond))
	}
	connecting := time.Since(start)
	require.NoError(t, <-flooded)
	t.Logf("flood: %v", flood)
	time.Sleep(300 * time.Millisecond) // the last records on their way: nothing marks the last
	shutdown()

	loggedDrops, quietDrops := rulePackets(t, loggedRule), rulePackets(t, quietRule)
	records, repeats := recordsAndRepeats(logs, func(at map[string]any) bool { return attrInt(at, attrSocketInode) == loggedIno })
	t.Logf("logged listener: %d drops = %d records + %d repeats, in %v", loggedDrops, records, repeats, connecting)
	require.Equal(t, int64(loggedDrops), records+repeats, "the logged listener's rule counter = its records + repeats")
	require.Positive(t, records)
	require.Positive(t, repeats)
	intervals := int64(connecting/interval) + 2 // the connects may straddle one more collection at each end
	require.LessOrEqual(t, records, int64(perKey*runtime.NumCPU())*intervals, "records past log_records_per_key")

	quietRecords, quietRepeats := recordsAndRepeats(logs, func(at map[string]any) bool { return attrInt(at, attrSocketInode) == quietIno })
	require.Zero(t, quietRecords+quietRepeats, "the filtered listener's drops are neither records nor repeats")
	final := metrics.AllMetrics()[len(metrics.AllMetrics())-1]
	mine, _ := sumPoints(final, packetsName, func(dp pmetric.NumberDataPoint) bool { return attrInt(dp.Attributes().AsRaw(), attrPID) == int64(me) })
	require.Equal(t, int64(loggedDrops+quietDrops), mine, "tcp_drop.packets of this process = the two rules' counters")

	_, floodRepeats := recordsAndRepeats(logs, func(at map[string]any) bool { return at[attrOwner] == ownerNone })
	require.Positive(t, floodRepeats, "the flood's drops were repeats")
	for _, lr := range sinkRecords(logs, func(at map[string]any) bool { _, ok := at[attrRepeats]; return ok && at[attrOwner] == ownerNone }) {
		t.Logf("a summary record: %s %v", lr.Body().Str(), lr.Attributes().AsRaw())
		break
	}
	requireRecordsAddUp(t, logs, final)
}

// firewalledSocket is firewalledListener, with the listener's socket inode.
func firewalledSocket(t *testing.T, ns *sandbox.Netns) (netip.AddrPort, int64, *sandbox.NftRule) {
	t.Helper()
	fd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 16)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Close(fd) })
	var st unix.Stat_t
	require.NoError(t, unix.Fstat(fd, &st))
	addr, err := sandbox.LocalAddr(fd)
	require.NoError(t, err)
	rule, err := ns.DropTCPPort(addr.Port())
	require.NoError(t, err)
	return addr, int64(st.Ino), rule
}

func rulePackets(t *testing.T, rule *sandbox.NftRule) uint64 {
	t.Helper()
	n, err := rule.Packets()
	require.NoError(t, err)
	return n
}
