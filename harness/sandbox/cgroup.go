// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// Cgroup2Mount returns the mount point of the cgroup v2 hierarchy and the
// cgroup path its root is (not "/" inside a cgroup namespace), from
// /proc/self/mountinfo.
func Cgroup2Mount() (mountPoint, root string, err error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", "", err
	}
	found := false
	procfs.ParseMountinfo(b, func(m procfs.Mount) {
		if !found && m.FSType == "cgroup2" {
			mountPoint, root, found = m.MountPoint, m.Root, true
		}
	})
	if !found {
		return "", "", errors.New("sandbox: no cgroup2 mount")
	}
	return mountPoint, root, nil
}

// RemoveCgroup removes an empty cgroup directory, waiting up to a second
// for the kernel to notice that its last process has exited.
func RemoveCgroup(dir string) error {
	for i := 0; ; i++ {
		err := os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if i == 50 {
			return fmt.Errorf("sandbox: remove cgroup %s: %w", dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
