// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpdrop/tcpdrop/harness/ociimage"
)

// Each architecture's image runs its own collector with the config at the
// path its command names.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	file := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	conf := file("config.yaml", "receivers: {}\n")
	out := filepath.Join(dir, "out", "image.tar")
	err := write("otelcol-tcpdrop:test", conf, out, "amd64", []string{"amd64=" + file("x86", "x86 collector"), "arm64=" + file("arm", "arm collector")})
	if err != nil {
		t.Fatal(err)
	}
	for arch, bin := range map[string]string{"amd64": "x86 collector", "arm64": "arm collector"} {
		c, err := ociimage.Files(out, arch)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range c.Files {
			got[f.Path] = string(f.Data)
		}
		if got["/otelcol-tcpdrop"] != bin || got["/etc/otelcol/config.yaml"] != "receivers: {}\n" || len(got) != 2 {
			t.Errorf("%s: files %v", arch, got)
		}
		if strings.Join(c.Entrypoint, " ") != "/otelcol-tcpdrop" || strings.Join(c.Cmd, " ") != "--config /etc/otelcol/config.yaml" {
			t.Errorf("%s: runs %q %q", arch, c.Entrypoint, c.Cmd)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "out", ".image-*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	if err := write("otelcol-tcpdrop:test", conf, out, "", []string{"arm64"}); err == nil {
		t.Error("an argument without =COLLECTOR: no error")
	}
}
