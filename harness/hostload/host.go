// SPDX-License-Identifier: Apache-2.0

package hostload

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// Holders is how many processes hold the host's sockets.
const Holders = 50

// Host is a built host: namespaces entered by their own processes, with
// listeners and connections held by Holders processes.
type Host struct {
	Namespaces int
	Sockets    int
	nsProcs    []*exec.Cmd
	holders    []*holderProc
	dropNS     *sandbox.Netns   // the first namespace, where drops are made
	dropRule   *sandbox.NftRule // drops the SYNs to the drop target
}

type holderProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
}

// Build makes a host of namespaces network namespaces (at least 1: the
// first holds the connections and the drop target) and sockets sockets
// (rounded down to an even number: connections).
// Close takes it down, also after an error.
func Build(namespaces, sockets int) (*Host, error) {
	if namespaces < 1 {
		return nil, errors.New("hostload: at least one namespace")
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	h := &Host{Namespaces: namespaces, Sockets: sockets}
	paths, err := h.startNamespaces(namespaces)
	if err != nil {
		h.Close()
		return nil, err
	}
	if err := h.startHolders(self, holderJobs(paths, sockets)); err != nil {
		h.Close()
		return nil, err
	}
	if h.dropNS, err = sandbox.Open(paths[0]); err == nil {
		h.dropRule, err = h.dropNS.DropTCPPort(dropPort)
	}
	if err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// startNamespaces makes n network namespaces, each held by a sleeping
// process, and returns their paths.
func (h *Host) startNamespaces(n int) ([]string, error) {
	paths := make([]string, n)
	for i := range paths {
		cmd := exec.Command("sleep", "infinity")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("hostload: namespace %d: %w", i, err)
		}
		h.nsProcs = append(h.nsProcs, cmd)
		paths[i] = "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/net"
	}
	return paths, nil
}

// holderJobs shares the sockets and the namespaces out among the holders;
// the first holder also serves the drops.
func holderJobs(paths []string, sockets int) []holderJob {
	// Sockets come in connections, two each: spread those.
	pairs := sockets / 2
	jobs := make([]holderJob, Holders)
	for i := range jobs {
		jobs[i].SocketNS = paths[0]
		jobs[i].Sockets = 2 * (pairs / Holders)
		if i < pairs%Holders {
			jobs[i].Sockets += 2
		}
	}
	jobs[0].DropTarget = true
	for i, p := range paths {
		jobs[i%Holders].Namespaces = append(jobs[i%Holders].Namespaces, p)
	}
	return jobs
}

// startHolders starts a holder process per job, then waits for each to
// say it is ready: they build in parallel.
func (h *Host) startHolders(self string, jobs []holderJob) error {
	var replies []*bufio.Reader
	for _, job := range jobs {
		hp, out, err := startHolder(self, job)
		if err != nil {
			return err
		}
		h.holders = append(h.holders, hp)
		replies = append(replies, out)
	}
	for i, out := range replies {
		var r holderReply
		line, err := out.ReadBytes('\n')
		if err == nil {
			err = json.Unmarshal(line, &r)
		}
		if err == nil && r.Err != "" {
			err = errors.New(r.Err)
		}
		if err != nil {
			return fmt.Errorf("hostload: holder %d: %w", i, err)
		}
	}
	return nil
}

func startHolder(self string, job holderJob) (*holderProc, *bufio.Reader, error) {
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), RoleEnv+"="+roleHolder)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("hostload: start holder: %w", err)
	}
	hp := &holderProc{cmd: cmd, in: in}
	if err := json.NewEncoder(in).Encode(job); err != nil {
		hp.stop()
		return nil, nil, fmt.Errorf("hostload: holder job: %w", err)
	}
	return hp, bufio.NewReader(out), nil
}

func (hp *holderProc) stop() {
	_ = hp.in.Close()
	done := make(chan struct{})
	go func() { _ = hp.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = hp.cmd.Process.Kill()
		<-done
	}
}

// Dropped is how many packets the drop rule has dropped.
func (h *Host) Dropped() (uint64, error) { return h.dropRule.Packets() }

// Close ends every process of the host; its namespaces and sockets go with
// them.
func (h *Host) Close() {
	if h.dropNS != nil {
		h.dropNS.Close()
	}
	for _, hp := range h.holders {
		hp.stop()
	}
	for _, c := range h.nsProcs {
		_ = c.Process.Kill()
		_ = c.Wait()
	}
	h.holders, h.nsProcs = nil, nil
}
