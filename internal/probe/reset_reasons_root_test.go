// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
)

// connectPair connects a client to the listener lfd in ns and returns the
// client's and the accepted socket's descriptors.
func connectPair(t *testing.T, ns *sandbox.Netns, lfd int, addr netip.AddrPort) (client, accepted int) {
	t.Helper()
	err := ns.Do(func() error {
		cfd, sa, err := tcpSocketFor(addr)
		if err != nil {
			return err
		}
		if err := unix.Connect(cfd, sa); err != nil {
			unix.Close(cfd)
			return err
		}
		sfd, _, err := unix.Accept(lfd)
		if err != nil {
			unix.Close(cfd)
			return err
		}
		client, accepted = cfd, sfd
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(client); unix.Close(accepted) })
	return client, accepted
}

// lingerZeroClose closes fd with SO_LINGER on and a zero timeout: the
// kernel drops the connection with a reset instead of a FIN.
func lingerZeroClose(t *testing.T, fd int) {
	t.Helper()
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Close(fd); err != nil {
		t.Fatal(err)
	}
}

// dataToTimeWait closes client, so that its connection becomes a
// time-wait socket in FIN_WAIT2 (the peer has not closed), then writes
// from the peer: the time-wait socket answers the new data with a reset.
// Data that reaches the client still in FIN_WAIT1 (the peer delays its
// ACK of the FIN) would be a TCP_ABORT_ON_DATA reset instead.
func dataToTimeWait(t *testing.T, ns *sandbox.Netns, client, peer int) {
	t.Helper()
	local, err := sandbox.LocalAddr(client)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Close(client); err != nil {
		t.Fatal(err)
	}
	if n, err := unix.Read(peer, make([]byte, 1)); n != 0 || err != nil {
		t.Fatalf("the peer read %d bytes (%v), want the FIN", n, err)
	}
	if err := ns.WaitTimeWait(local.Port(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(peer, []byte("after close")); err != nil {
		t.Fatal(err)
	}
}

// TestResetReasonsOfLingerAndTimeWait: a close with SO_LINGER 0 resets the
// connection (the kernel's reason is TCP_STATE: the socket is
// disconnected in a state that needs a reset), and data sent to a
// time-wait socket is answered with a reset that has no owner
// (TCP_TIMEWAIT_SOCKET). The resets counted equal the growth of
// Tcp:OutRsts. Before 6.10 the tracepoint sees only full sockets: the
// linger resets are counted, without a reason, the time-wait ones not.
func TestResetReasonsOfLingerAndTimeWait(t *testing.T) {
	reasons, err := dropreason.ResetsFromKernel()
	if err != nil {
		t.Fatal(err)
	}
	traced := reasons.Available()
	forEachLoopback(t, func(t *testing.T, ns *sandbox.Netns, addr netip.Addr) {
		lfd, server, _ := listenIn(t, ns, netip.AddrPortFrom(addr, 0).String(), 64)
		p := openProbe(t, Options{Resets: true, Filter: Filter{Ports: []uint16{server.Port()}}})
		events := collect(t, p)

		const lingered, timeWaits = 4, 3
		before := netstat(t, ns)["Tcp:OutRsts"]
		lingerers := map[uint64]bool{}
		for range lingered {
			client, _ := connectPair(t, ns, lfd, server)
			lingerers[socketInode(t, client)] = true
			lingerZeroClose(t, client)
		}
		for range timeWaits {
			client, peer := connectPair(t, ns, lfd, server)
			dataToTimeWait(t, ns, client, peer)
		}
		time.Sleep(50 * time.Millisecond) // the last reset sent
		grew := netstat(t, ns)["Tcp:OutRsts"] - before
		if grew != lingered+timeWaits {
			t.Fatalf("Tcp:OutRsts grew by %d, want %d", grew, lingered+timeWaits)
		}

		want := grew
		if !traced {
			want = lingered
		}
		mine := func(e *Event) bool { return e.Kind == KindReset && e.NetnsInode == ns.Inode() }
		byReason := map[string]int{}
		for _, e := range events.waitFor(t, int(want), mine) {
			name := "NOT_AVAILABLE"
			if e.HasReason {
				name = reasons.Name(e.Reason)
			}
			byReason[name]++
			owned := lingerers[e.SocketInode]
			switch {
			case !traced && (e.HasReason || !owned):
				t.Errorf("reset before 6.10: reason %s, owner %d; want a lingering socket's, no reason", name, e.SocketInode)
			case traced && name == "TCP_STATE" && !owned:
				t.Errorf("TCP_STATE reset of socket %d, not one closed with SO_LINGER 0 %v", e.SocketInode, lingerers)
			case traced && name == "TCP_TIMEWAIT_SOCKET" && (e.SocketInode != 0 || e.Dst.Port() != server.Port()):
				t.Errorf("time-wait reset: owner %d, to %v; want none, to the server %v", e.SocketInode, e.Dst, server)
			}
		}
		if traced && (byReason["TCP_STATE"] != lingered || byReason["TCP_TIMEWAIT_SOCKET"] != timeWaits) {
			t.Errorf("resets by reason %v; want TCP_STATE %d, TCP_TIMEWAIT_SOCKET %d", byReason, lingered, timeWaits)
		}
		c, err := p.TakeCounts()
		if err != nil {
			t.Fatal(err)
		}
		var counted uint64
		for _, k := range c.ByKey {
			if k.Kind == KindReset && !k.Filtered {
				counted += k.Packets
			}
		}
		if counted != want {
			t.Errorf("counted %d resets, want %d (Tcp:OutRsts grew %d; socket-less traced: %v)", counted, want, grew, traced)
		}
		t.Logf("Tcp:OutRsts +%d; traced by reason %v", grew, byReason)
	})
}
