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
	a := readLayout{path: path, entries: entries}
	top, err := a.topIndex()
	if err != nil {
		return Contents{}, err
	}
	c := Contents{Tag: top.Annotations["io.containerd.image.name"]}
	m, err := a.archManifest(top, arch)
	if err != nil {
		return c, err
	}
	cfg, err := a.imageConfig(m, arch)
	if err != nil {
		return c, err
	}
	c.Entrypoint, c.Cmd = cfg.Config.Entrypoint, cfg.Config.Cmd
	for i, l := range m.Layers {
		files, err := a.layerFiles(l, cfg.RootFS.DiffIDs[i], i)
		if err != nil {
			return c, err
		}
		c.Files = append(c.Files, files...)
	}
	return c, nil
}

// readLayout is an OCI layout read into memory, its entries by path.
type readLayout struct {
	path    string
	entries map[string][]byte
}

// blob is the blob d names, checked against d's digest and size.
func (a readLayout) blob(d descriptor) ([]byte, error) {
	data, ok := a.entries[blobPath(d.Digest)]
	if !ok {
		return nil, fmt.Errorf("%s: no blob %s", a.path, d.Digest)
	}
	sum := sha256.Sum256(data)
	if "sha256:"+hex.EncodeToString(sum[:]) != d.Digest || len(data) != d.Size {
		return nil, fmt.Errorf("%s: blob %s does not match its digest or size", a.path, d.Digest)
	}
	return data, nil
}

// topIndex is index.json's one descriptor, which names the image index.
func (a readLayout) topIndex() (descriptor, error) {
	var top index
	if err := json.Unmarshal(a.entries["index.json"], &top); err != nil {
		return descriptor{}, fmt.Errorf("%s: index.json: %w", a.path, err)
	}
	if len(top.Manifests) != 1 || top.Manifests[0].MediaType != mediaIndex {
		return descriptor{}, fmt.Errorf("%s: index.json names %d descriptors, want one image index", a.path, len(top.Manifests))
	}
	return top.Manifests[0], nil
}

// archManifest is the manifest of the linux/arch image the image index
// names; the last one when it names several.
func (a readLayout) archManifest(imageIndex descriptor, arch string) (manifest, error) {
	data, err := a.blob(imageIndex)
	if err != nil {
		return manifest{}, err
	}
	var ix index
	if err := json.Unmarshal(data, &ix); err != nil {
		return manifest{}, err
	}
	var m manifest
	found := false
	for _, d := range ix.Manifests {
		if d.Platform == nil || d.Platform.Architecture != arch || d.Platform.OS != "linux" {
			continue
		}
		if data, err = a.blob(d); err != nil {
			return manifest{}, err
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return manifest{}, err
		}
		found = true
	}
	if !found {
		return manifest{}, fmt.Errorf("%s: no linux/%s image in the index", a.path, arch)
	}
	return m, nil
}

// imageConfig is m's config, checked to be of arch and to have a diff id
// per layer.
func (a readLayout) imageConfig(m manifest, arch string) (config, error) {
	data, err := a.blob(m.Config)
	if err != nil {
		return config{}, err
	}
	var cfg config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return config{}, err
	}
	if cfg.Architecture != arch || len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return config{}, fmt.Errorf("%s: the %s manifest's config says %s with %d layers, the manifest has %d", a.path, arch, cfg.Architecture, len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	return cfg, nil
}

// layerFiles unpacks layer i, checked against its diff id, into its files.
func (a readLayout) layerFiles(l descriptor, diffID string, i int) ([]File, error) {
	data, err := a.blob(l)
	if err != nil {
		return nil, err
	}
	z, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	plain, err := io.ReadAll(z)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(plain)
	if "sha256:"+hex.EncodeToString(sum[:]) != diffID {
		return nil, fmt.Errorf("%s: layer %d does not match its diff id", a.path, i)
	}
	return readTarFiles(bytes.NewReader(plain))
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
