// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// output keeps what bpftrace prints: a few hundred lines, its counts at
// exit, kept up to maxOutput bytes.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

const maxOutput = 4 << 20

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.b.Len() < maxOutput {
		o.b.Write(p)
	}
	return len(p), nil
}

func (o *output) text() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// bpftraceTotal sums the counts bpftrace prints for a map at exit:
// lines like "@[3]: 12345" (the key is the drop reason, a number or a
// name depending on the version).
func bpftraceTotal(out string) (total uint64, keys int, err error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "@") {
			continue
		}
		i := strings.LastIndex(line, ": ")
		if i < 0 {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(line[i+2:]), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("bpftrace: bad count in %q", line)
		}
		total += n
		keys++
	}
	return total, keys, sc.Err()
}

// bpftraceRun is bpftrace running the peer program.
type bpftraceRun struct {
	proc *process
	out  *output
}

// inTracefs runs a command in a mount namespace of its own with tracefs
// mounted at /sys/kernel/tracing: bpftrace finds tracepoints there, and the
// machine may not have it mounted. The host's mounts are left alone, and
// unshare and sh exec, so the pid is bpftrace's.
var inTracefs = []string{"--mount", "--propagation", "private", "sh", "-c",
	`mount -t tracefs tracefs /sys/kernel/tracing && exec "$0" "$@"`}

// startBpftrace starts bpftrace and waits, up to bound, until its probe is
// attached: it has said "Attaching" and holds a perf event (the tracepoint
// attachment).
func startBpftrace(ctx context.Context, bin, dir string, bound time.Duration) (*bpftraceRun, error) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, fmt.Errorf("bpftrace: %w (util-linux)", err)
	}
	w := &output{}
	args := append(append([]string{}, inTracefs...), bin, "-e", bpftraceProgram)
	p, err := startProcess("bpftrace", unshare, args, w, filepath.Join(dir, "bpftrace.log"))
	if err != nil {
		return nil, err
	}
	fail := func(why string) (*bpftraceRun, error) {
		_ = p.stop(syscall.SIGKILL, 5*time.Second) // it has failed already; why is the error
		return nil, fmt.Errorf("bpftrace %s; its output:\n%s%s", why, w.text(), p.logTail())
	}
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(w.text(), "Attaching") || !holdsPerfEvent(p.pid()) {
		select {
		case <-p.exited:
			return fail("exited before attaching")
		case <-deadline.C:
			return fail(fmt.Sprintf("did not attach within %v", bound))
		case <-ctx.Done():
			return fail("interrupted")
		case <-tick.C:
		}
	}
	// The program is attached right after its perf event is opened.
	time.Sleep(200 * time.Millisecond)
	return &bpftraceRun{proc: p, out: w}, nil
}

// holdsPerfEvent reports whether pid has a perf event file open.
func holdsPerfEvent(pid int) bool {
	found := false
	procfs.ForEachFD("/proc", int32(pid), func(_ string, target []byte) {
		found = found || string(target) == "anon_inode:[perf_event]"
	})
	return found
}

// finish stops bpftrace with SIGINT, which makes it print its map, and
// returns the total it counted.
func (b *bpftraceRun) finish() (uint64, error) {
	if err := b.proc.stop(syscall.SIGINT, 30*time.Second); err != nil {
		return 0, fmt.Errorf("%w; its log:\n%s", err, b.proc.logTail())
	}
	total, keys, err := bpftraceTotal(b.out.text())
	if err != nil {
		return 0, err
	}
	if keys == 0 {
		return 0, fmt.Errorf("bpftrace printed no counts; its output:\n%s", b.out.text())
	}
	return total, nil
}
