// SPDX-License-Identifier: Apache-2.0

package procfs

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// Mount is one line of /proc/<pid>/mountinfo.
type Mount struct {
	Root       string // the mounted filesystem's path that is the mount's root ("net:[N]" for an nsfs mount)
	MountPoint string // where it is mounted, unescaped
	FSType     string // "cgroup2", "nsfs", ...
}

// ParseMountinfo calls fn for each well-formed line of a mountinfo file:
// "36 35 0:4 net:[4026532177] /run/netns/x rw shared:5 - nsfs nsfs rw".
func ParseMountinfo(b []byte, fn func(Mount)) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, fs := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(fs) == 0 {
			continue
		}
		fn(Mount{Root: f[3], MountPoint: unescapeMountPath(f[4]), FSType: fs[0]})
	}
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
