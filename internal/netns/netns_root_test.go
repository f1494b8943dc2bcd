// SPDX-License-Identifier: Apache-2.0

package netns

import (
	"errors"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
)

func threadInode(t *testing.T) uint32 {
	t.Helper()
	ino, err := ThreadInode()
	if err != nil {
		t.Fatal(err)
	}
	return ino
}

func newNetns(t *testing.T) (int, uint32) {
	t.Helper()
	fd, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	ino, err := FDInode(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, ino
}

// TestDo: fn runs in the namespace, the thread comes back after fn
// returns, fails or panics, and New does not move the caller.
func TestDo(t *testing.T) {
	roottest.Require(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	outer := threadInode(t)
	fd, ino := newNetns(t)
	if got := threadInode(t); got != outer {
		t.Fatalf("New moved the calling thread from netns %d to %d", outer, got)
	}
	if ino == outer || ino == 0 {
		t.Fatalf("new namespace has inode %d, the caller's is %d", ino, outer)
	}
	var inside uint32
	if err := Do(fd, func() error { inside = threadInode(t); return nil }); err != nil {
		t.Fatal(err)
	}
	if inside != ino {
		t.Errorf("inside Do the thread is in netns %d, want %d", inside, ino)
	}
	sentinel := errors.New("sentinel")
	if err := Do(fd, func() error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("Do = %v, want fn's error", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want boom", r)
			}
		}()
		_ = Do(fd, func() error { panic("boom") })
	}()
	if got := threadInode(t); got != outer {
		t.Fatalf("after Do the thread is in netns %d, want %d", got, outer)
	}
}

// TestGo: fn runs in the namespace on another thread; the caller's thread
// never moves.
func TestGo(t *testing.T) {
	roottest.Require(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	outer := threadInode(t)
	fd, ino := newNetns(t)
	var inside uint32
	var err error
	if gerr := Go(fd, func() error { inside, err = ThreadInode(); return nil }); gerr != nil || err != nil {
		t.Fatal(gerr, err)
	}
	if inside != ino {
		t.Errorf("inside Go the thread is in netns %d, want %d", inside, ino)
	}
	if got := threadInode(t); got != outer {
		t.Fatalf("Go moved the calling thread to netns %d", got)
	}
	if err := Go(fd, func() error { runtime.Goexit(); return nil }); !errors.Is(err, errGoexit) {
		t.Errorf("Go of an fn that exits its goroutine = %v, want errGoexit", err)
	}
}
