// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// ListenInChild opens a listener at addr in n and hands it to a new process
// (sleep 120), started inside the cgroup directory cgroupDir unless it is
// "", which becomes the listener's only holder. It returns the running
// process, which the caller ends, and the listener's address.
func (n *Netns) ListenInChild(addr netip.AddrPort, backlog int, cgroupDir string) (*exec.Cmd, netip.AddrPort, error) {
	fd, err := n.Listen(addr, backlog)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close() // the child keeps its copy
	local, err := LocalAddr(fd)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	cmd := exec.Command("sleep", "120")
	cmd.ExtraFiles = []*os.File{f}
	if cgroupDir != "" {
		cg, err := unix.Open(cgroupDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, netip.AddrPort{}, fmt.Errorf("cgroup %s: %w", cgroupDir, err)
		}
		defer unix.Close(cg)
		// clone3(CLONE_INTO_CGROUP): the child starts in the group.
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg}
	}
	if err := cmd.Start(); err != nil {
		return nil, netip.AddrPort{}, err
	}
	return cmd, local, nil
}
