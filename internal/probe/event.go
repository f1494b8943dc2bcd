// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"bytes"
	"net/netip"
	"strings"
	"time"
)

// Event is one TCP packet the kernel dropped, or a reset it sent (Kind),
// as the kernel program saw it.
type Event struct {
	// Kind says whether this is a drop, a reset, a retransmission or a
	// failed connect.
	Kind Kind
	// Packets is how many of its count's packets the event stands for: 1,
	// except for a retransmission of several segments, where it is those
	// within the count key's LogRecordsPerKey (the others are its
	// Count.Repeats). So events, repeats, lost, shed and filtered add up to
	// the counts.
	Packets uint16
	// Time is the wall-clock time of the drop.
	Time time.Time
	// PID and TID name the task that was on the CPU when the packet was
	// dropped. For receive-path drops that is often not the socket's owner.
	PID, TID uint32
	// Comm is that task's name, NUL padded.
	Comm [16]byte
	// Reason is the raw enum skb_drop_reason value; see dropreason.Table.
	// HasReason is false on kernels that pass no reason (before 5.17).
	Reason    uint32
	HasReason bool
	// Location is the kernel address that freed the packet.
	Location uint64
	// Src and Dst are the packet's own addresses and ports.
	Src, Dst netip.AddrPort
	// TCPFlags are the flags of the packet's TCP header.
	TCPFlags TCPFlags
	// NetnsInode is the inode number of the network namespace of the device
	// or socket the packet belonged to (as in /proc/<pid>/ns/net).
	NetnsInode uint32
	// Ifindex is the interface index the packet arrived on or was sent to,
	// 0 when the kernel had no device for it.
	Ifindex uint32
	// Ifname is that interface's name, NUL padded, empty when unknown.
	Ifname [16]byte
	// SocketInode is the inode number of the socket the packet belonged to
	// (the tracepoint's rx_sk, else skb->sk; a handshake's listener), as
	// /proc/<pid>/fd shows it: socket:[SocketInode]. It names the socket's
	// owner. 0 when there was no socket, or one no process holds (time-wait,
	// orphaned).
	SocketInode uint64
	// State is the TCP state of that socket (of the packet's time-wait or
	// request socket too), 0 when the packet had no TCP socket.
	State TCPState
	// Stack holds the first StackDepth return addresses of the kernel
	// stack that dropped the packet, innermost first, when the probe was
	// opened with KernelStack; StackDepth is 0 otherwise.
	Stack      [MaxStackDepth]uint64
	StackDepth int
}

// MaxStackDepth is how many kernel stack frames an event carries at most.
const MaxStackDepth = len(tcpdropDropEventStack{}.Stack)

// KernelStack returns the stack frames the event carries.
func (e *Event) KernelStack() []uint64 { return e.Stack[:e.StackDepth] }

// CommString returns Comm without its NUL padding.
func (e *Event) CommString() string { return CommString(e.Comm) }

// CommString returns a kernel task name without its NUL padding.
func CommString(comm [16]byte) string {
	if i := bytes.IndexByte(comm[:], 0); i >= 0 {
		return string(comm[:i])
	}
	return string(comm[:])
}

// IfnameString returns Ifname without its NUL padding.
func (e *Event) IfnameString() string { return CommString(e.Ifname) }

// IPVersion returns 4 or 6.
func (e *Event) IPVersion() int {
	if e.Src.Addr().Is4() {
		return 4
	}
	return 6
}

// TCPFlags is the flags byte of a TCP header.
type TCPFlags uint8

// The TCP header flags, in header bit order.
const (
	FlagFIN TCPFlags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

var flagNames = [8]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}

// flagStrings holds the String of every flags byte, made once, so that
// naming flags allocates nothing per packet.
var flagStrings = func() (all [256]string) {
	order := [8]int{1, 4, 0, 2, 3, 5, 6, 7} // SYN, ACK, FIN, RST, PSH, URG, ECE, CWR
	for f := range all {
		var b strings.Builder
		for _, bit := range order {
			if f&(1<<bit) != 0 {
				if b.Len() > 0 {
					b.WriteByte('|')
				}
				b.WriteString(flagNames[bit])
			}
		}
		all[f] = b.String()
	}
	return all
}()

// String returns the set flags joined by "|", e.g. "SYN" or "ACK|RST" (ACK
// is listed first as tcpdump does), or "" when none is set.
func (f TCPFlags) String() string { return flagStrings[f] }

// TCPState is a socket's TCP state, as the kernel numbers it
// (include/net/tcp_states.h; the numbering is ABI: inet_diag and
// /proc/net/tcp report it). 0: no TCP socket.
type TCPState uint8

// stateNames are the semantic conventions' network.connection.state values
// by kernel state. A request socket (TCP_NEW_SYN_RECV, a handshake the
// listener answered) is syn_received; a socket the kernel calls
// TCP_BOUND_INACTIVE (bound, never connected, 6.5+) is closed.
var stateNames = [...]string{
	1:  "established",
	2:  "syn_sent",
	3:  "syn_received",
	4:  "fin_wait_1",
	5:  "fin_wait_2",
	6:  "time_wait",
	7:  "closed",
	8:  "close_wait",
	9:  "last_ack",
	10: "listen",
	11: "closing",
	12: "syn_received",
	13: "closed",
}

// String returns the semantic-convention name of the state, "" for none or
// a state this code does not know.
func (s TCPState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return ""
}
