// SPDX-License-Identifier: Apache-2.0

package probe

import "testing"

// TestMergeAddsSameKeys: a key counted in a CPU's slot and in the map (on
// another CPU, or its slot taken) is one Count, its packets and repeats
// added; keys that differ in any field stay apart.
func TestMergeAddsSameKeys(t *testing.T) {
	inMap := []Count{
		{Reason: 3, HasReason: true, Location: 0x10, Packets: 30, Repeats: 20},
		{SocketInode: 7, Reason: 3, HasReason: true, Location: 0x10, Packets: 2},
	}
	inSlots := []Count{
		{Reason: 3, HasReason: true, Location: 0x10, Packets: 15, Repeats: 5},
		{Reason: 3, HasReason: true, Location: 0x10, Filtered: true, Packets: 4},
	}
	got := merge(inMap, inSlots)
	if len(got) != 3 {
		t.Fatalf("%d counts, want 3: %+v", len(got), got)
	}
	if got[0].Packets != 45 || got[0].Repeats != 25 {
		t.Errorf("the same key: %+v, want 45 packets, 25 repeats", got[0])
	}
	if got[1].Packets != 2 || got[2].Packets != 4 || !got[2].Filtered {
		t.Errorf("other keys: %+v %+v", got[1], got[2])
	}
}
