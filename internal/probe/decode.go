// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"unsafe"
)

// eventSize is the size of struct drop_event (bpf/tcpdrop.h), and
// stackEventSize of struct drop_event_stack, which starts with one.
const (
	eventSize      = int(unsafe.Sizeof(tcpdropDropEvent{}))
	stackEventSize = int(unsafe.Sizeof(tcpdropDropEventStack{}))
)

// Field offsets, taken from the bpf2go-generated mirror of the C struct so
// that the decoder follows the kernel program's layout.
var (
	offTime     = unsafe.Offsetof(tcpdropDropEvent{}.TimeNs)
	offLocation = unsafe.Offsetof(tcpdropDropEvent{}.Location)
	offSockIno  = unsafe.Offsetof(tcpdropDropEvent{}.SockIno)
	offTgid     = unsafe.Offsetof(tcpdropDropEvent{}.Tgid)
	offTid      = unsafe.Offsetof(tcpdropDropEvent{}.Tid)
	offReason   = unsafe.Offsetof(tcpdropDropEvent{}.Reason)
	offNetns    = unsafe.Offsetof(tcpdropDropEvent{}.Netns)
	offIfindex  = unsafe.Offsetof(tcpdropDropEvent{}.Ifindex)
	offSport    = unsafe.Offsetof(tcpdropDropEvent{}.Sport)
	offDport    = unsafe.Offsetof(tcpdropDropEvent{}.Dport)
	offSaddr    = unsafe.Offsetof(tcpdropDropEvent{}.Saddr)
	offDaddr    = unsafe.Offsetof(tcpdropDropEvent{}.Daddr)
	offFamily   = unsafe.Offsetof(tcpdropDropEvent{}.Family)
	offFlags    = unsafe.Offsetof(tcpdropDropEvent{}.TcpFlags)
	offHasRsn   = unsafe.Offsetof(tcpdropDropEvent{}.HasReason)
	offState    = unsafe.Offsetof(tcpdropDropEvent{}.State)
	offComm     = unsafe.Offsetof(tcpdropDropEvent{}.Comm)
	offIfname   = unsafe.Offsetof(tcpdropDropEvent{}.Ifname)
	offKind     = unsafe.Offsetof(tcpdropDropEvent{}.Kind)
	offPackets  = unsafe.Offsetof(tcpdropDropEvent{}.Packets)
	offStackLen = unsafe.Offsetof(tcpdropDropEventStack{}.StackBytes)
	offStack    = unsafe.Offsetof(tcpdropDropEventStack{}.Stack)
)

var errShortEvent = errors.New("tcp_drop: event record shorter than struct drop_event")
var errFamily = errors.New("tcp_drop: event record with an address family other than 4 or 6")

// decodeEvent fills ev from one ring-buffer record. The timestamp stays in
// kernel monotonic nanoseconds (monoNs); the caller converts it.
func decodeEvent(raw []byte, ev *Event) (monoNs uint64, err error) {
	if len(raw) < eventSize {
		return 0, errShortEvent
	}
	ne := binary.NativeEndian
	sport := ne.Uint16(raw[offSport:])
	dport := ne.Uint16(raw[offDport:])
	switch raw[offFamily] {
	case 4:
		ev.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(raw[offSaddr:offSaddr+4])), sport)
		ev.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(raw[offDaddr:offDaddr+4])), dport)
	case 6:
		ev.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(raw[offSaddr:offSaddr+16])), sport)
		ev.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(raw[offDaddr:offDaddr+16])), dport)
	default:
		return 0, errFamily
	}
	ev.Kind = Kind(raw[offKind])
	ev.Packets = ne.Uint16(raw[offPackets:])
	ev.Location = ne.Uint64(raw[offLocation:])
	ev.SocketInode = ne.Uint64(raw[offSockIno:])
	ev.PID = ne.Uint32(raw[offTgid:])
	ev.TID = ne.Uint32(raw[offTid:])
	ev.Reason = ne.Uint32(raw[offReason:])
	ev.HasReason = raw[offHasRsn] != 0
	ev.State = TCPState(raw[offState])
	ev.NetnsInode = ne.Uint32(raw[offNetns:])
	ev.Ifindex = ne.Uint32(raw[offIfindex:])
	ev.TCPFlags = TCPFlags(raw[offFlags])
	ev.Comm = [16]byte(raw[offComm : offComm+16])
	ev.Ifname = [16]byte(raw[offIfname : offIfname+16])
	ev.StackDepth = 0
	if len(raw) >= stackEventSize {
		// A negative length is bpf_get_stack's error: no frames.
		n := int64(ne.Uint64(raw[offStackLen:])) / 8
		ev.StackDepth = int(min(max(n, 0), int64(MaxStackDepth)))
		for i := range ev.StackDepth {
			ev.Stack[i] = ne.Uint64(raw[int(offStack)+8*i:])
		}
	}
	return ne.Uint64(raw[offTime:]), nil
}
