// SPDX-License-Identifier: Apache-2.0

package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Contents is one platform's image as read back from an archive.
type Contents struct {
	Tag        string // the index's io.containerd.image.name
	Entrypoint []string
	Cmd        []string
	Files      []File // regular files, paths absolute
}

// Files reads the image of architecture arch out of the archive Write
// wrote, following the OCI layout from index.json and checking every
// blob's digest, and the layers' diff ids, on the way.
func Files(path, arch string) (Contents, error) {
	f, err := os.Open(path)
	if err != nil {
		return Contents{}, err
	}
	defer f.Close()
	entries, err := readTar(f)
	if err != nil {
		return Contents{}, fmt.Errorf("%s: %w", path, err)
	}
	blob := func(d descriptor) ([]byte, error) {
		data, ok := entries[blobPath(d.Digest)]
		if !ok {
			return nil, fmt.Errorf("%s: no blob %s", path, d.Digest)
		}
		sum := sha256.Sum256(data)
		if "sha256:"+hex.EncodeToString(sum[:]) != d.Digest || len(data) != d.Size {
			return nil, fmt.Errorf("%s: blob %s does not match its digest or size", path, d.Digest)
		}
		return data, nil
	}
	var top index
	if err := json.Unmarshal(entries["index.json"], &top); err != nil {
		return Contents{}, fmt.Errorf("%s: index.json: %w", path, err)
	}
	if len(top.Manifests) != 1 || top.Manifests[0].MediaType != mediaIndex {
		return Contents{}, fmt.Errorf("%s: index.json names %d descriptors, want one image index", path, len(top.Manifests))
	}
	c := Contents{Tag: top.Manifests[0].Annotations["io.containerd.image.name"]}
	data, err := blob(top.Manifests[0])
	if err != nil {
		return c, err
	}
	var ix index
	if err := json.Unmarshal(data, &ix); err != nil {
		return c, err
	}
	var m manifest
	found := false
	for _, d := range ix.Manifests {
		if d.Platform == nil || d.Platform.Architecture != arch || d.Platform.OS != "linux" {
			continue
		}
		if data, err = blob(d); err != nil {
			return c, err
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return c, err
		}
		found = true
	}
	if !found {
		return c, fmt.Errorf("%s: no linux/%s image in the index", path, arch)
	}
	if data, err = blob(m.Config); err != nil {
		return c, err
	}
	var cfg config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return c, err
	}
	if cfg.Architecture != arch || len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return c, fmt.Errorf("%s: the %s manifest's config says %s with %d layers, the manifest has %d", path, arch, cfg.Architecture, len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	c.Entrypoint, c.Cmd = cfg.Config.Entrypoint, cfg.Config.Cmd
	for i, l := range m.Layers {
		if data, err = blob(l); err != nil {
			return c, err
		}
		z, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return c, err
		}
		plain, err := io.ReadAll(z)
		if err != nil {
			return c, err
		}
		sum := sha256.Sum256(plain)
		if "sha256:"+hex.EncodeToString(sum[:]) != cfg.RootFS.DiffIDs[i] {
			return c, fmt.Errorf("%s: layer %d does not match its diff id", path, i)
		}
		files, err := readTarFiles(bytes.NewReader(plain))
		if err != nil {
			return c, err
		}
		c.Files = append(c.Files, files...)
	}
	return c, nil
}

// readTar reads every regular file of a tar into memory, by name.
func readTar(r io.Reader) (map[string][]byte, error) {
	files, err := readTarFiles(r)
	if err != nil {
		return nil, err
	}
	m := map[string][]byte{}
	for _, f := range files {
		m[f.Path[1:]] = f.Data
	}
	return m, nil
}

// readTarFiles reads the regular files of a tar, their paths made absolute.
func readTarFiles(r io.Reader) ([]File, error) {
	var files []File
	t := tar.NewReader(r)
	for {
		h, err := t.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(t)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: "/" + h.Name, Mode: h.Mode, Data: data})
	}
}
