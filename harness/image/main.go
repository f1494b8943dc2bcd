// SPDX-License-Identifier: Apache-2.0

// Command image writes the collector's container image, one per
// architecture under one tag (an image index), as an OCI archive that
// `docker load`, `ctr images import` and `skopeo copy --all` read (make
// image):
//
//	go run ./harness/image -tag otelcol-tcpdrop:latest -config otelcol-config.example.yaml \
//	    -out _build/image/otelcol-tcpdrop.tar -docker-arch amd64 \
//	    amd64=_build/linux-amd64/otelcol-tcpdrop arm64=_build/linux-arm64/otelcol-tcpdrop
//
// Each image holds the static collector and its config and nothing else
// (FROM scratch): /otelcol-tcpdrop, run as
// `/otelcol-tcpdrop --config /etc/otelcol/config.yaml`. It is written here
// rather than by docker build because docker here (20.10, classic builder,
// no buildx) builds an image for its own architecture only.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tcpdrop/tcpdrop/harness/ociimage"
)

// What every image runs.
var (
	entrypoint = []string{"/otelcol-tcpdrop"}
	cmd        = []string{"--config", "/etc/otelcol/config.yaml"}
)

func main() {
	tag := flag.String("tag", "otelcol-tcpdrop:latest", "the image's name:tag")
	config := flag.String("config", "otelcol-config.example.yaml", "the collector's config, /etc/otelcol/config.yaml in the image")
	out := flag.String("out", "_build/image/otelcol-tcpdrop.tar", "the archive to write")
	dockerArch := flag.String("docker-arch", "", "the architecture whose image docker's manifest.json names (the docker daemon's); empty: none")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: image [flags] ARCH=COLLECTOR...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := write(*tag, *config, *out, *dockerArch, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
}

func write(tag, config, out, dockerArch string, collectors []string) error {
	if len(collectors) == 0 {
		return fmt.Errorf("no ARCH=COLLECTOR argument")
	}
	conf, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	img := ociimage.Image{Tag: tag, Entrypoint: entrypoint, Cmd: cmd, DockerArch: dockerArch}
	for _, arg := range collectors {
		arch, path, ok := strings.Cut(arg, "=")
		if !ok {
			return fmt.Errorf("%q: want ARCH=COLLECTOR", arg)
		}
		bin, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		img.Platforms = append(img.Platforms, ociimage.Platform{Arch: arch, Variant: variant(arch), Files: []ociimage.File{
			{Path: entrypoint[0], Mode: 0o755, Data: bin},
			{Path: cmd[1], Mode: 0o644, Data: conf},
		}})
	}
	return writeImage(out, img)
}

// writeImage writes img's archive to out, whole or not at all.
func writeImage(out string, img ociimage.Image) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	// Written aside and renamed into place: a reader (docker load, a
	// concurrent make image) never sees half an archive.
	f, err := os.CreateTemp(filepath.Dir(out), ".image-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, nothing
	w := bufio.NewWriterSize(f, 1<<20)
	if err := ociimage.Write(w, img); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// variant is the CPU variant registries and runtimes expect in an
// architecture's platform: arm64 images say v8.
func variant(arch string) string {
	if arch == "arm64" {
		return "v8"
	}
	return ""
}
