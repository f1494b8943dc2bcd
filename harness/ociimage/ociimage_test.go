// SPDX-License-Identifier: Apache-2.0

package ociimage

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testImage() Image {
	return Image{
		Tag: "otelcol-tcpdrop:dev", Entrypoint: []string{"/bin/c"}, Cmd: []string{"--config", "/etc/c.yaml"}, DockerArch: "arm64",
		Platforms: []Platform{
			{Arch: "amd64", Files: []File{{"/bin/c", 0o755, []byte("x86 binary")}, {"/etc/c.yaml", 0o644, []byte("conf")}}},
			{Arch: "arm64", Variant: "v8", Files: []File{{"/bin/c", 0o755, []byte("arm binary")}, {"/etc/c.yaml", 0o644, []byte("conf")}}},
		},
	}
}

// The archive read back gives each platform its own files, entrypoint and
// command; the index is one, under the tag, with both platforms; docker's
// manifest.json names the daemon's architecture's image under the tag.
func TestWriteRead(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, testImage()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for arch, bin := range map[string]string{"amd64": "x86 binary", "arm64": "arm binary"} {
		c, err := Files(path, arch)
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if c.Tag != "docker.io/library/otelcol-tcpdrop:dev" || strings.Join(c.Entrypoint, " ") != "/bin/c" || strings.Join(c.Cmd, " ") != "--config /etc/c.yaml" {
			t.Errorf("%s: %+v", arch, c)
		}
		if len(c.Files) != 2 || c.Files[0].Path != "/bin/c" || string(c.Files[0].Data) != bin || c.Files[0].Mode != 0o755 || string(c.Files[1].Data) != "conf" {
			t.Errorf("%s: files %+v", arch, c.Files)
		}
	}
	if _, err := Files(path, "riscv64"); err == nil || !strings.Contains(err.Error(), "no linux/riscv64 image") {
		t.Errorf("an architecture the index lacks: %v", err)
	}

	entries, err := readTar(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var top index
	if err := json.Unmarshal(entries["index.json"], &top); err != nil {
		t.Fatal(err)
	}
	if top.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "dev" {
		t.Errorf("index.json: %+v", top)
	}
	var ix index
	if err := json.Unmarshal(entries[blobPath(top.Manifests[0].Digest)], &ix); err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, m := range ix.Manifests {
		platforms = append(platforms, m.Platform.OS+"/"+m.Platform.Architecture+"/"+m.Platform.Variant)
	}
	if strings.Join(platforms, " ") != "linux/amd64/ linux/arm64/v8" {
		t.Errorf("platforms %q", platforms)
	}
	var docker []dockerManifest
	if err := json.Unmarshal(entries["manifest.json"], &docker); err != nil {
		t.Fatal(err)
	}
	if len(docker) != 1 || strings.Join(docker[0].RepoTags, " ") != "otelcol-tcpdrop:dev" {
		t.Fatalf("manifest.json %+v", docker)
	}
	var cfg config
	if err := json.Unmarshal(entries[docker[0].Config], &cfg); err != nil || cfg.Architecture != "arm64" {
		t.Errorf("manifest.json's image is %q (%v), want the daemon's arm64", cfg.Architecture, err)
	}
	if _, ok := entries[docker[0].Layers[0]]; !ok {
		t.Errorf("manifest.json's layer %s is not in the archive", docker[0].Layers[0])
	}
}

// The same files make the same archive: no timestamp or map order leaks in.
func TestWriteReproducible(t *testing.T) {
	var a, b bytes.Buffer
	if err := Write(&a, testImage()); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, testImage()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two writes of one image differ")
	}
}

// A damaged blob is found on reading, not run.
func TestFilesChecksDigests(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, testImage()); err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Replace(buf.Bytes(), []byte(`"architecture":"arm64"`), []byte(`"architecture":"arm65"`), 1)
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(path, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Files(path, "arm64"); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("a damaged config: %v", err)
	}
}

func TestWriteErrors(t *testing.T) {
	img := testImage()
	img.Tag = "no-tag"
	if err := Write(&bytes.Buffer{}, img); err == nil {
		t.Error("a tag without :tag: no error")
	}
	img = testImage()
	img.DockerArch = "s390x"
	if err := Write(&bytes.Buffer{}, img); err == nil {
		t.Error("docker's architecture not among the platforms: no error")
	}
	if got := fullName("ghcr.io/o/otelcol-tcpdrop"); got != "ghcr.io/o/otelcol-tcpdrop" {
		t.Errorf("fullName: %s", got)
	}
	if got := fullName("o/otelcol-tcpdrop"); got != "docker.io/o/otelcol-tcpdrop" {
		t.Errorf("fullName: %s", got)
	}
}
