// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// oopsConsole is the end of a real guest's console (6.12.118 amd64), cut.
const oopsConsole = `[  312.477590] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
[  312.477973] CPU: 1 UID: 0 PID: 1229 Comm: receiver_tcpdro Not tainted 6.12.118+deb13-cloud-amd64 #1  Debian 6.12.118-1
[  312.478215] RIP: 0010:raw_sendmsg+0xbbf/0x1350
[  312.479157]  <TASK>
[  312.480675] RIP: 0010:raw_sendmsg+0xbbf/0x1350
[  312.480898] Kernel panic - not syncing: Fatal exception in interrupt
`

func TestFirstOopsNamesWhatStoppedTheGuest(t *testing.T) {
	dir := t.TempDir()
	console := filepath.Join(dir, "console.log")
	if got := firstOops(console); got != "" {
		t.Errorf("no console: got %q, want nothing", got)
	}
	if err := os.WriteFile(console, []byte(oopsConsole), 0o644); err != nil {
		t.Fatal(err)
	}
	want := ": Oops: int3: 0000 [#1] PREEMPT SMP NOPTI; RIP: 0010:raw_sendmsg+0xbbf/0x1350; Kernel panic - not syncing: Fatal exception in interrupt"
	if got := firstOops(console); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if err := os.WriteFile(console, []byte("[    0.000000] Linux version 6.12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := firstOops(console); got != "" {
		t.Errorf("a quiet console: got %q, want nothing", got)
	}
}
