// SPDX-License-Identifier: Apache-2.0

package hostload

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/internal/drops"
)

// engineSample is what the engine process says of itself when asked.
type engineSample struct {
	CPU       time.Duration // user + system time of the whole process (getrusage)
	Drops     uint64        // drops handed out
	Owned     uint64        // of them, with their owner named
	Overflows uint64        // listen-queue overflows handed out
}

// runEngine is the engine role: it opens and starts the engine with the
// default options but a record per drop, says "ready", then answers each line of stdin with a
// JSON engineSample, until stdin closes.
func runEngine() int {
	log := zap.NewNop()
	if os.Getenv("TCPDROP_HOSTLOAD_DEBUG") != "" {
		log, _ = zap.NewDevelopment()
	}
	if path := os.Getenv("TCPDROP_HOSTLOAD_CPUPROFILE"); path != "" {
		// One engine's profile: the last engine started writes it.
		if f, err := os.Create(path); err == nil {
			if err := pprof.StartCPUProfile(f); err == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	opts := drops.DefaultOptions()
	// Every drop handed out, with its owner: the work hostload measures
	// under drops (at the defaults a key's drops past 10 an interval are
	// only counted).
	opts.LogRecordsPerKey = 0
	e, err := drops.Open(opts, false, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostload engine:", err)
		return 1
	}
	var dropsSeen, owned, overflows atomic.Uint64
	e.Start(drops.Outputs{
		Drops: func(ds []drops.Drop) {
			dropsSeen.Add(uint64(len(ds)))
			for _, d := range ds {
				if d.Owner.Status == drops.OwnerProcess {
					owned.Add(1)
				}
			}
		},
		Overflows: func(os []drops.Overflow) {
			for _, o := range os {
				overflows.Add(o.Overflows)
			}
		},
		Counts: func(drops.Counts, []drops.Listener, time.Time) {},
	})
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	enc := json.NewEncoder(os.Stdout)
	for in.Scan() {
		_ = enc.Encode(engineSample{CPU: selfCPU(), Drops: dropsSeen.Load(), Owned: owned.Load(), Overflows: overflows.Load()})
	}
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "hostload engine: stop:", err)
		return 1
	}
	return 0
}

// selfCPU is the user and system time of this process, all threads.
func selfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// engineProc is a running engine process, from the driver's side.
type engineProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startEngine runs binary (this program, or another build of it) as an
// engine and waits until its engine has started (its first poll done).
func startEngine(binary string) (*engineProc, error) {
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(), RoleEnv+"="+roleEngine)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("hostload: start engine %s: %w", binary, err)
	}
	p := &engineProc{cmd: cmd, in: in, out: bufio.NewReader(out)}
	line, err := p.out.ReadString('\n')
	if err != nil || line != "ready\n" {
		_ = p.stop() // it did not start: how it ends adds nothing
		return nil, fmt.Errorf("hostload: engine %s did not start (%q, %w)", binary, line, err)
	}
	return p, nil
}

// sample asks the engine for its CPU time and counts.
func (p *engineProc) sample() (engineSample, error) {
	var s engineSample
	if _, err := io.WriteString(p.in, "sample\n"); err != nil {
		return s, fmt.Errorf("hostload: engine: %w", err)
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return s, fmt.Errorf("hostload: engine: %w", err)
	}
	err = json.Unmarshal(line, &s) // before s is returned: the order of a return's operands is unspecified
	return s, err
}

// stop ends the engine and waits for it.
func (p *engineProc) stop() error {
	_ = p.in.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return <-done
	}
}
