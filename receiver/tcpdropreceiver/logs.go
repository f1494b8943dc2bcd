//go:build linux

package tcpdropreceiver

import (
	"net/netip"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/tcpdrop/tcpdrop/internal/probe"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// Log record attribute keys. Semantic conventions where they exist; the
// rest under the receiver's own prefix.
const (
	attrPID           = "process.pid"
	attrExecutable    = "process.executable.name"
	attrReason        = "tcp_drop.reason"
	attrFunction      = "tcp_drop.kernel_function"
	attrLocation      = "tcp_drop.location"
	attrTransport     = "network.transport"
	attrNetworkType   = "network.type"
	attrSrcAddress    = "source.address"
	attrSrcPort       = "source.port"
	attrDstAddress    = "destination.address"
	attrDstPort       = "destination.port"
	attrTCPFlags      = "tcp_drop.tcp_flags"
	attrInterfaceName = "network.interface.name"
	attrNetns         = "tcp_drop.netns.inode"
	logAttributeCount = 14
)

// logConverter turns drop events into log records. It keeps the strings it
// made for repeated values (process names), so it is not safe for
// concurrent use: the receiver has one per reading goroutine.
type logConverter struct {
	names   kernelNames
	version string // the collector's, as the metrics' scope carries it
	comms   map[[16]byte]string
	addrs   map[netip.Addr]string
	line    []byte
}

// maxCached bounds the process-name and address caches against churn.
const maxCached = 4096

func newLogConverter(names kernelNames, version string) *logConverter {
	return &logConverter{names: names, version: version, comms: map[[16]byte]string{}, addrs: map[netip.Addr]string{}}
}

// convert makes one plog.Logs holding a record per event.
func (c *logConverter) convert(events []probe.Event, observed time.Time) plog.Logs {
	logs := plog.NewLogs()
	scope := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	scope.Scope().SetName(metadata.ScopeName)
	scope.Scope().SetVersion(c.version)
	records := scope.LogRecords()
	records.EnsureCapacity(len(events))
	obs := pcommon.NewTimestampFromTime(observed)
	for i := range events {
		c.record(&events[i], records.AppendEmpty(), obs)
	}
	return logs
}

func (c *logConverter) record(e *probe.Event, lr plog.LogRecord, observed pcommon.Timestamp) {
	reason := c.names.reason(e.Reason, e.HasReason)
	location := c.names.location(e.Location)
	comm := c.comm(e.Comm)

	lr.SetTimestamp(pcommon.NewTimestampFromTime(e.Time))
	lr.SetObservedTimestamp(observed)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	lr.Body().SetStr(c.body(e, comm, reason, location))

	attrs := lr.Attributes()
	attrs.EnsureCapacity(logAttributeCount)
	attrs.PutInt(attrPID, int64(e.PID))
	attrs.PutStr(attrExecutable, comm)
	attrs.PutStr(attrReason, reason)
	attrs.PutStr(attrFunction, c.names.function(e.Location))
	attrs.PutStr(attrLocation, location)
	attrs.PutStr(attrTransport, "tcp")
	if e.IPVersion() == 4 {
		attrs.PutStr(attrNetworkType, "ipv4")
	} else {
		attrs.PutStr(attrNetworkType, "ipv6")
	}
	attrs.PutStr(attrSrcAddress, c.addr(e.Src.Addr()))
	attrs.PutInt(attrSrcPort, int64(e.Src.Port()))
	attrs.PutStr(attrDstAddress, c.addr(e.Dst.Addr()))
	attrs.PutInt(attrDstPort, int64(e.Dst.Port()))
	attrs.PutStr(attrTCPFlags, e.TCPFlags.String())
	if ifname := e.IfnameString(); ifname != "" {
		attrs.PutStr(attrInterfaceName, ifname)
	}
	attrs.PutInt(attrNetns, int64(e.NetnsInode))
}

// body is the line a person reads, in the spirit of the seed's:
// Drop | PID: 1234 (nc) | Reason: NO_SOCKET | Function: tcp_v4_rcv+0x63 | 127.0.0.1:40000 -> 127.0.0.1:9 [SYN]
func (c *logConverter) body(e *probe.Event, comm, reason, location string) string {
	b := append(c.line[:0], "Drop | PID: "...)
	b = strconv.AppendUint(b, uint64(e.PID), 10)
	b = append(b, " ("...)
	b = append(b, comm...)
	b = append(b, ") | Reason: "...)
	b = append(b, reason...)
	b = append(b, " | Function: "...)
	b = append(b, location...)
	b = append(b, " | "...)
	b = e.Src.AppendTo(b)
	b = append(b, " -> "...)
	b = e.Dst.AppendTo(b)
	b = append(b, " ["...)
	b = append(b, e.TCPFlags.String()...)
	b = append(b, ']')
	c.line = b
	return string(b)
}

// comm returns the process name as a string, made once per name.
func (c *logConverter) comm(raw [16]byte) string {
	if s, ok := c.comms[raw]; ok {
		return s
	}
	if len(c.comms) >= maxCached {
		clear(c.comms)
	}
	s := probe.CommString(raw)
	c.comms[raw] = s
	return s
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
