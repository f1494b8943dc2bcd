// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"net/netip"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// Log record attribute keys. Semantic conventions where they exist; the
// rest under the receiver's own prefix. Each kind of record is an event of
// metadata.yaml that lists its attributes, so documentation.md says what
// is emitted; records_reference_test.go holds the two together.
const (
	attrReason          = "tcp_drop.reason"
	attrFunction        = "tcp_drop.kernel_function"
	attrLocation        = "tcp_drop.location"
	attrTransport       = "network.transport"
	attrNetworkType     = "network.type"
	attrSrcAddress      = "source.address"
	attrSrcPort         = "source.port"
	attrDstAddress      = "destination.address"
	attrDstPort         = "destination.port"
	attrTCPFlags        = "tcp_drop.tcp_flags"
	attrInterfaceName   = "network.interface.name"
	attrNetns           = "tcp_drop.netns.inode"
	attrOwner           = "tcp_drop.owner"
	attrSocketInode     = "tcp_drop.socket.inode"
	attrContextPID      = "tcp_drop.context.pid"
	attrContextComm     = "tcp_drop.context.comm"
	attrKernelStack     = "tcp_drop.kernel_stack"
	attrConnectionState = "network.connection.state"
	attrKind            = "tcp_drop.kind"
	attrSegments        = "tcp_drop.segments"
	logAttributeCount   = 20
)

// Resource attribute keys: who owns the socket, and the node (see
// resource.go).
const (
	attrHost       = "host.name"
	attrPID        = "process.pid"
	attrExecutable = "process.executable.name"
	attrCgroup     = "process.linux.cgroup"
	attrContainer  = "container.id"
	attrPodUID     = "k8s.pod.uid"
)

// Attribute values that come from the engine.
const (
	listenOverflowReason = drops.ListenOverflowReason
	notAvailable         = drops.NotAvailable // tcp_drop.reason on kernels that pass none
)

// logConverter turns drops into log records, under one Resource per owner.
// It keeps the strings it made for repeated values (addresses), its line
// buffer and the plog.Logs being made, so it is not safe for concurrent
// use: the receiver has one per pushing goroutine. It does no I/O: the
// engine resolved owners and names.
type logConverter struct {
	version string // the collector's, as the metrics' scope carries it
	res     resources
	rb      *metadata.ResourceBuilder // res's, for this converter
	addrs   map[netip.Addr]string
	line    []byte

	logs   plog.Logs                           // being made
	groups map[resourceKey]plog.LogRecordSlice // logs' records, by Resource
}

// maxCached bounds the address cache against churn.
const maxCached = 4096

func newLogConverter(version string, res resources) *logConverter {
	return &logConverter{version: version, res: res, rb: res.newBuilder(), addrs: map[netip.Addr]string{}, groups: map[resourceKey]plog.LogRecordSlice{}}
}

// begin starts a new plog.Logs.
func (c *logConverter) begin() {
	c.logs = plog.NewLogs()
	clear(c.groups)
}

// recordsOf returns the records of owner's Resource in the plog.Logs being
// made, with the receiver's scope, made on first use.
func (c *logConverter) recordsOf(owner drops.Owner) plog.LogRecordSlice {
	k := c.res.ofOwner(owner)
	if records, ok := c.groups[k]; ok {
		return records
	}
	rl := c.logs.ResourceLogs().AppendEmpty()
	c.res.fill(c.rb, k, rl.Resource())
	scope := rl.ScopeLogs().AppendEmpty()
	scope.Scope().SetName(metadata.ScopeName)
	scope.Scope().SetVersion(c.version)
	records := scope.LogRecords()
	c.groups[k] = records
	return records
}

// convert makes one plog.Logs holding a record per drop, under its
// owner's Resource.
func (c *logConverter) convert(batch []drops.Drop, observed time.Time) plog.Logs {
	c.begin()
	obs := pcommon.NewTimestampFromTime(observed)
	for i := range batch {
		c.record(&batch[i], c.recordsOf(batch[i].Owner).AppendEmpty(), obs)
	}
	return c.logs
}

func (c *logConverter) record(d *drops.Drop, lr plog.LogRecord, observed pcommon.Timestamp) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(d.Time))
	lr.SetObservedTimestamp(observed)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	lr.Body().SetStr(c.body(d))

	attrs := lr.Attributes()
	attrs.EnsureCapacity(logAttributeCount)
	attrs.PutStr(attrKind, d.Kind.String())
	attrs.PutStr(attrOwner, string(d.Owner.Status))
	if d.SocketInode != 0 {
		attrs.PutInt(attrSocketInode, int64(d.SocketInode))
	}
	attrs.PutInt(attrContextPID, int64(d.PID))
	attrs.PutStr(attrContextComm, d.Comm)
	attrs.PutStr(attrReason, d.Reason)
	words := wordsOf(d.Kind)
	if words.located {
		attrs.PutStr(attrFunction, d.Function)
		attrs.PutStr(attrLocation, d.Location)
	}
	if words.segments {
		attrs.PutInt(attrSegments, int64(d.Packets))
	}
	attrs.PutStr(attrTransport, "tcp")
	if d.IPVersion() == 4 {
		attrs.PutStr(attrNetworkType, "ipv4")
	} else {
		attrs.PutStr(attrNetworkType, "ipv6")
	}
	attrs.PutStr(attrSrcAddress, c.addr(d.Src.Addr()))
	attrs.PutInt(attrSrcPort, int64(d.Src.Port()))
	attrs.PutStr(attrDstAddress, c.addr(d.Dst.Addr()))
	attrs.PutInt(attrDstPort, int64(d.Dst.Port()))
	if !words.noPacket {
		attrs.PutStr(attrTCPFlags, d.TCPFlags.String())
	}
	if d.State != "" {
		attrs.PutStr(attrConnectionState, d.State)
	}
	if ifname := d.IfnameString(); ifname != "" {
		attrs.PutStr(attrInterfaceName, ifname)
	}
	attrs.PutInt(attrNetns, int64(d.NetnsInode))
	if len(d.Stack) > 0 {
		frames := attrs.PutEmptySlice(attrKernelStack)
		frames.EnsureCapacity(len(d.Stack))
		for _, loc := range d.Stack {
			frames.AppendEmpty().SetStr(loc)
		}
	}
}

// appendOwner writes "1234 (nginx)", or what is known instead.
func appendOwner(b []byte, who drops.Owner) []byte {
	switch who.Status {
	case drops.OwnerProcess:
		b = strconv.AppendInt(b, int64(who.Process.PID), 10)
		b = append(b, " ("...)
		b = append(b, who.Process.Comm...)
		return append(b, ')')
	case drops.OwnerNone:
		return append(b, "- (no owner)"...)
	default:
		return append(b, "? (owner unknown)"...)
	}
}

// body is the line a person reads, in the spirit of the seed's, with the
// socket's owner first and the task that was on the CPU last:
// Drop | PID: 1234 (server) | Reason: NETFILTER_DROP | Function: nf_hook_slow+0x9c | 127.0.0.1:40000 -> 127.0.0.1:8080 [SYN] | CPU: 5678 (curl)
// Reset | PID: 1234 (server) | Reason: TCP_ABORT_ON_CLOSE | 127.0.0.1:8080 -> 127.0.0.1:40000 [ACK|RST] | CPU: 1234 (server)
// Retransmit | PID: 1234 (server) | Reason: DATA | 127.0.0.1:8080 -> 127.0.0.1:40000 [ACK] | 3 segments | CPU: 0 (swapper/1)
// Connect failed | PID: 5678 (client) | Reason: ECONNREFUSED | 127.0.0.1:40002 -> 127.0.0.1:9000 | CPU: 0 (swapper/0)
func (c *logConverter) body(d *drops.Drop) string {
	words := wordsOf(d.Kind)
	b := c.line[:0]
	b = append(b, words.title...)
	b = append(b, " | PID: "...)
	b = appendOwner(b, d.Owner)
	b = append(b, " | Reason: "...)
	b = append(b, d.Reason...)
	if words.located {
		b = append(b, " | Function: "...)
		b = append(b, d.Location...)
	}
	b = append(b, " | "...)
	b = d.Src.AppendTo(b)
	b = append(b, " -> "...)
	b = d.Dst.AppendTo(b)
	if !words.noPacket {
		b = append(b, " ["...)
		b = append(b, d.TCPFlags.String()...)
		b = append(b, ']')
	}
	if words.segments {
		b = append(b, " | "...)
		b = strconv.AppendUint(b, uint64(d.Packets), 10)
		b = append(b, " segment"...)
		if d.Packets != 1 {
			b = append(b, 's')
		}
	}
	b = append(b, " | CPU: "...)
	b = strconv.AppendUint(b, uint64(d.PID), 10)
	b = append(b, " ("...)
	b = append(b, d.Comm...)
	b = append(b, ')')
	c.line = b
	return string(b)
}

// addr returns an address as a string, made once per address: a flood
// repeats a few addresses millions of times.
func (c *logConverter) addr(a netip.Addr) string {
	if s, ok := c.addrs[a]; ok {
		return s
	}
	if len(c.addrs) >= maxCached {
		clear(c.addrs)
	}
	s := a.String()
	c.addrs[a] = s
	return s
}
