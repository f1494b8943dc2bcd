package listeners

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Limits on discovery, so that a huge or hostile /proc cannot make a Poll
// unbounded.
const (
	maxProcs      = 1 << 20 // processes looked at per scan
	maxFDsPerProc = 1 << 20 // descriptors looked at per process in an fd scan
	maxNamespaces = 4096    // namespaces dumped per Poll
)

// processNamespaces maps the network namespace inode of every process under
// procRoot to a path that opens it (/proc/<pid>/ns/net, the first pid seen).
// One stat per process.
func processNamespaces(procRoot string, into map[uint32]string) {
	forEachPID(procRoot, func(pid string) {
		p := filepath.Join(procRoot, pid, "ns", "net")
		var st unix.Stat_t
		if unix.Stat(p, &st) != nil {
			return // gone, a kernel thread we may not inspect, or no permission
		}
		if _, ok := into[uint32(st.Ino)]; !ok {
			into[uint32(st.Ino)] = p
		}
	})
}

// fdNamespaces finds network namespaces that are held open by a descriptor
// (readlink gives "net:[N]") rather than entered by a process: test
// sandboxes, `ip netns` helpers, container runtimes between steps. It costs
// one readlink per open descriptor on the host, so Watcher runs it rarely.
func fdNamespaces(procRoot string, into map[uint32]string) {
	buf := make([]byte, 128)
	forEachPID(procRoot, func(pid string) {
		dir := filepath.Join(procRoot, pid, "fd")
		f, err := os.Open(dir)
		if err != nil {
			return
		}
		names, _ := f.Readdirnames(maxFDsPerProc)
		_ = f.Close()
		for _, fd := range names {
			p := dir + "/" + fd
			n, err := unix.Readlink(p, buf)
			if err != nil || n < len("net:[1]") {
				continue
			}
			ino, ok := parseNsLink(buf[:n], "net")
			if !ok {
				continue
			}
			if _, seen := into[ino]; !seen {
				into[ino] = p
			}
		}
	})
}

// mountNamespaces finds network namespaces bind-mounted somewhere
// (`ip netns add` mounts them under /run/netns): mountinfo lines of type
// nsfs whose root is "net:[N]".
func mountNamespaces(mountinfo []byte, into map[uint32]string) {
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		// "36 35 0:4 net:[4026532177] /run/netns/x rw shared:5 - nsfs nsfs rw"
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		if f := strings.Fields(post); len(f) == 0 || f[0] != "nsfs" {
			continue
		}
		f := strings.Fields(pre)
		if len(f) < 5 {
			continue
		}
		ino, ok := parseNsLink([]byte(f[3]), "net")
		if !ok {
			continue
		}
		if _, seen := into[ino]; !seen {
			into[ino] = unescapeMountPath(f[4])
		}
	}
}

// parseNsLink parses "<kind>:[<inode>]", as readlink of a namespace file
// or the root of an nsfs mount reads.
func parseNsLink(b []byte, kind string) (uint32, bool) {
	rest, ok := bytes.CutPrefix(b, []byte(kind+":["))
	if !ok || len(rest) < 2 || rest[len(rest)-1] != ']' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(rest[:len(rest)-1]), 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space,
// \011, \012, \134).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// forEachPID calls fn with the name of each numeric entry of procRoot.
func forEachPID(procRoot string, fn func(pid string)) {
	d, err := os.Open(procRoot)
	if err != nil {
		return
	}
	defer d.Close()
	seen := 0
	for seen < maxProcs {
		names, err := d.Readdirnames(1024)
		for _, name := range names {
			if !isPID(name) {
				continue
			}
			if seen++; seen > maxProcs {
				return
			}
			fn(name)
		}
		if err != nil {
			return
		}
	}
}

func isPID(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
