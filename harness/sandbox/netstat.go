package sandbox

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Netstat reads the namespace's counters from /proc/thread-self/net/netstat
// and /proc/thread-self/net/snmp (from a thread inside it: /proc/self/net
// shows the thread-group leader's namespace). Keys are "Group:Name", e.g.
// "TcpExt:ListenOverflows", "Tcp:OutRsts", "Udp:NoPorts". Negative values
// (Tcp:MaxConn is -1) are left out.
func (n *Netns) Netstat() (map[string]uint64, error) {
	var files [2][]byte
	err := n.Do(func() error {
		for i, p := range []string{"/proc/thread-self/net/netstat", "/proc/thread-self/net/snmp"} {
			b, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("sandbox: %w", err)
			}
			files[i] = b
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m := make(map[string]uint64, 512)
	for _, b := range files {
		if err := parseNetstat(b, m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// parseNetstat adds the counters of a /proc/net/{netstat,snmp} file to m.
// Such a file has pairs of lines, "Group: Name1 Name2 ..." then
// "Group: value1 value2 ...".
func parseNetstat(b []byte, m map[string]uint64) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		header := sc.Text()
		if strings.TrimSpace(header) == "" {
			continue
		}
		if !sc.Scan() {
			return fmt.Errorf("sandbox: netstat: header %q without values", firstField(header))
		}
		values := sc.Text()
		hg, hrest, ok1 := strings.Cut(header, ":")
		vg, vrest, ok2 := strings.Cut(values, ":")
		if !ok1 || !ok2 || hg != vg {
			return fmt.Errorf("sandbox: netstat: mismatched lines %q and %q", firstField(header), firstField(values))
		}
		names, vals := strings.Fields(hrest), strings.Fields(vrest)
		if len(names) != len(vals) {
			return fmt.Errorf("sandbox: netstat: %s has %d names and %d values", hg, len(names), len(vals))
		}
		for i, name := range names {
			v, err := strconv.ParseUint(vals[i], 10, 64)
			if err != nil {
				if _, ierr := strconv.ParseInt(vals[i], 10, 64); ierr == nil {
					continue // negative, e.g. Tcp:MaxConn -1
				}
				return fmt.Errorf("sandbox: netstat: %s:%s: %w", hg, name, err)
			}
			m[hg+":"+name] = v
		}
	}
	return sc.Err()
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}
