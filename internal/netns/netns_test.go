// SPDX-License-Identifier: Apache-2.0

package netns

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestEnterFails: a descriptor that is not a namespace is refused and fn
// does not run.
func TestEnterFails(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	ran := false
	for _, run := range []func(int, func() error) error{Do, Go} {
		if err := run(p[0], func() error { ran = true; return nil }); err == nil {
			t.Error("entering a pipe succeeded")
		}
	}
	if ran {
		t.Error("fn ran although entering failed")
	}
}

func TestInode(t *testing.T) {
	self, err := Inode("/proc/self/ns/net")
	if err != nil || self == 0 {
		t.Fatalf("Inode(/proc/self/ns/net) = %d, %v", self, err)
	}
	fd, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if got, err := FDInode(fd); err != nil || got != self {
		t.Errorf("FDInode = %d, %v; want %d", got, err, self)
	}
	if _, err := Inode("/nonexistent"); err == nil {
		t.Error("Inode of a missing path: no error")
	}
}
