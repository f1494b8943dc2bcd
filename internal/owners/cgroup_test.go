package owners

import "testing"

func TestParseCgroup(t *testing.T) {
	cases := []struct {
		name, in string
		want     cgroupInfo
	}{
		{"pure v2", "0::/system.slice/docker-" + id1 + ".scope\n", cgroupInfo{"/system.slice/docker-" + id1 + ".scope", id1}},
		{"hybrid, this host", "9:name=systemd:/\n4:memory:/process_api/cbadf005376488219e50d831a6875bcc\n1:cpu:/\n0::/\n",
			cgroupInfo{"/", ""}},
		{"hybrid, container only in v1 (cgroupfs driver)", "11:memory:/docker/" + id2 + "\n1:name=systemd:/docker/" + id2 + "\n0::/\n",
			cgroupInfo{"/", id2}},
		{"hybrid, v2 wins", "1:name=systemd:/docker/" + id2 + "\n0::/system.slice/docker-" + id1 + ".scope\n",
			cgroupInfo{"/system.slice/docker-" + id1 + ".scope", id1}},
		{"v1 only: name=systemd", "4:memory:/a\n1:name=systemd:/system.slice/ssh.service\n", cgroupInfo{"/system.slice/ssh.service", ""}},
		{"v1 only: no systemd", "4:memory:/a\n3:cpu:/b\n", cgroupInfo{"/a", ""}},
		{"deleted cgroup", "0::/gone (deleted)\n", cgroupInfo{"/gone", ""}},
		{"no trailing newline", "0::/x", cgroupInfo{"/x", ""}},
		{"colons in the path", "0::/a:b:c\n", cgroupInfo{"/a:b:c", ""}},
		{"garbage", "nonsense\n\n:\n", cgroupInfo{}},
		{"empty", "", cgroupInfo{}},
	}
	for _, c := range cases {
		if got := parseCgroup([]byte(c.in)); got != c.want {
			t.Errorf("%s: parseCgroup = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func FuzzParseCgroup(f *testing.F) {
	f.Add([]byte("0::/system.slice/docker-" + id1 + ".scope\n1:name=systemd:/\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = parseCgroup(b)
	})
}
