// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// kernelScanner finds every TCP socket's holders with an iterator over all
// open files (bpf/owner_socks.c), in the kernel: where a scan of /proc
// takes a readlink per open file, one read of the iterator takes a few
// bytes per TCP socket.
type kernelScanner struct {
	objs ownerSocksObjects
	iter *link.Iter
	buf  []byte
}

// recordSize is the size of struct owner_sock.
const recordSize = 16

// openKernelScanner loads and attaches the iterator, and checks that the
// process ids it reports are the ones /proc shows (they are the initial pid
// namespace's: a collector in a pid namespace of its own cannot use them).
func openKernelScanner() (*kernelScanner, error) {
	_ = rlimit.RemoveMemlock() // kernels before 5.11 charge BPF memory to it
	k := &kernelScanner{buf: make([]byte, 64<<10)}
	if err := loadOwnerSocksObjects(&k.objs, nil); err != nil {
		return nil, fmt.Errorf("owners: loading the iterator over open files (task_file, Linux 5.8+): %w", err)
	}
	it, err := link.AttachIter(link.IterOptions{Program: k.objs.TcpdropOwnerSocks})
	if err != nil {
		k.objs.Close()
		return nil, fmt.Errorf("owners: attaching the iterator over open files (task_file, Linux 5.8+): %w", err)
	}
	k.iter = it
	if err := k.checkPIDs(); err != nil {
		k.close()
		return nil, err
	}
	return k, nil
}

// checkPIDs finds a socket of this process's own and compares the pid the
// iterator gives it with this process's.
func (k *kernelScanner) checkPIDs() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("owners: a socket to check the iterator with: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("owners: a socket to check the iterator with: %w", err)
	}
	res, err := k.scan(1 << 30)
	if err != nil {
		return err
	}
	pid, ok := res.sockets[st.Ino]
	switch {
	case !ok:
		return errors.New("owners: the iterator over open files did not find this process's own socket")
	case int(pid) != os.Getpid():
		return fmt.Errorf("owners: the iterator over open files names this process %d, /proc %d: not the host's pid namespace", pid, os.Getpid())
	}
	return nil
}

// scan runs the iterator once: every TCP socket with the lowest pid
// holding it, at most maxEntries.
func (k *kernelScanner) scan(maxEntries int) (scanResult, error) {
	res := scanResult{sockets: map[uint64]int32{}, full: true}
	rd, err := k.iter.Open()
	if err != nil {
		return res, fmt.Errorf("owners: running the iterator over open files: %w", err)
	}
	defer rd.Close()
	held := 0 // bytes of a record cut by the end of a read
	for {
		n, err := rd.Read(k.buf[held:])
		n += held
		whole := n - n%recordSize
		for off := 0; off < whole; off += recordSize {
			rec := k.buf[off : off+recordSize]
			ino := binary.LittleEndian.Uint64(rec)
			pid := int32(binary.LittleEndian.Uint32(rec[8:]))
			if old, ok := res.sockets[ino]; ok {
				res.sockets[ino] = min(old, pid)
				continue
			}
			if len(res.sockets) >= maxEntries {
				res.capped = true
				continue
			}
			res.sockets[ino] = pid
		}
		held = copy(k.buf, k.buf[whole:n])
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("owners: reading the iterator over open files: %w", err)
		}
	}
}

func (k *kernelScanner) close() {
	if k.iter != nil {
		_ = k.iter.Close()
	}
	_ = k.objs.Close()
}
