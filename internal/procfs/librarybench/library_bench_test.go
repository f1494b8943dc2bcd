// SPDX-License-Identifier: Apache-2.0

package librarybench

import (
	"os"
	"testing"

	promprocfs "github.com/prometheus/procfs"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// BenchmarkSocketScan is one walk of every process's descriptors, counting
// the sockets: the owners' scan.
func BenchmarkSocketScan(b *testing.B) {
	for range 10000 { // sockets this process holds, as a busy host's servers do
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = unix.Close(fd) })
	}
	b.Run("lib=ours", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n = 0
			for _, pid := range procfs.PIDs("/proc") {
				procfs.ForEachFD("/proc", pid, func(_ string, target []byte) {
					if _, ok := procfs.LinkInode(target, "socket"); ok {
						n++
					}
				})
			}
		}
		b.ReportMetric(float64(n), "sockets")
	})
	b.Run("lib=prometheus", func(b *testing.B) {
		fs, err := promprocfs.NewFS("/proc")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n = 0
			procs, err := fs.AllProcs()
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range procs {
				targets, err := p.FileDescriptorTargets()
				if err != nil {
					continue
				}
				for _, t := range targets {
					if _, ok := procfs.LinkInode([]byte(t), "socket"); ok {
						n++
					}
				}
			}
		}
		b.ReportMetric(float64(n), "sockets")
	})
}

// BenchmarkListenCounters is one read of TcpExt:ListenOverflows and
// ListenDrops: the listeners' poll does it once per namespace.
func BenchmarkListenCounters(b *testing.B) {
	b.Run("lib=ours", func(b *testing.B) {
		fd, err := unix.Open(procfs.NetFile("netstat"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = unix.Close(fd) })
		buf := make([]byte, 0, 16<<10)
		b.ReportAllocs()
		for b.Loop() {
			buf, err = procfs.ReadFD(fd, buf, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			found := 0
			err = procfs.ParseNetstat(buf, func(group, name, _ []byte) error {
				if string(group) == "TcpExt" && (string(name) == "ListenOverflows" || string(name) == "ListenDrops") {
					found++
				}
				return nil
			})
			if err != nil || found != 2 {
				b.Fatalf("found %d: %v", found, err)
			}
		}
	})
	b.Run("lib=prometheus", func(b *testing.B) {
		fs, err := promprocfs.NewFS("/proc")
		if err != nil {
			b.Fatal(err)
		}
		self, err := fs.Self()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			ns, err := self.Netstat()
			if err != nil || ns.ListenOverflows == nil || ns.ListenDrops == nil {
				b.Fatalf("netstat: %v", err)
			}
		}
	})
}

// BenchmarkMountinfo is one read and parse of this process's mount table:
// the listeners' discovery of bind-mounted namespaces.
func BenchmarkMountinfo(b *testing.B) {
	b.Run("lib=ours", func(b *testing.B) {
		fd, err := unix.Open("/proc/self/mountinfo", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = unix.Close(fd) })
		var buf []byte
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			buf, err = procfs.ReadFD(fd, buf, 16<<20)
			if err != nil {
				b.Fatal(err)
			}
			n = 0
			procfs.ParseMountinfo(buf, func(procfs.Mount) { n++ })
		}
		b.ReportMetric(float64(n), "mounts")
	})
	b.Run("lib=prometheus", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			ms, err := promprocfs.GetProcMounts(os.Getpid())
			if err != nil {
				b.Fatal(err)
			}
			n = len(ms)
		}
		b.ReportMetric(float64(n), "mounts")
	})
}
