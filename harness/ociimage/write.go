// SPDX-License-Identifier: Apache-2.0

// Package ociimage writes a multi-architecture container image made of
// files alone (no base image) as one tar: an OCI image layout whose
// index.json names one image index, under one tag, with an image for each
// platform; and, for a docker daemon that keeps one image per tag (the
// classic store of docker 20.10), docker's manifest.json naming the image of
// that daemon's architecture. `docker load` reads the latter; containerd
// (`ctr images import`), skopeo and a docker with the containerd store read
// the index. It also reads a platform's files back (Files), to run an image
// where there is no container runtime.
package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// A File is one file of an image's only layer.
type File struct {
	Path string // absolute in the image: /otelcol-tcpdrop
	Mode int64  // permissions
	Data []byte
}

// A Platform is one architecture's image.
type Platform struct {
	Arch    string // GOARCH, which is also OCI's: amd64, arm64
	Variant string // "v8" for arm64, as the registries expect
	Files   []File
}

// An Image is what Write writes.
type Image struct {
	Tag        string // name:tag
	Entrypoint []string
	Cmd        []string
	Platforms  []Platform
	DockerArch string // the platform docker's manifest.json names (the daemon's); "": none
}

// Media types, OCI's.
const (
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// epoch is every timestamp in the image: the same files make the same
// digests.
var epoch = time.Unix(0, 0).UTC()

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Platform    *platformJSON     `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type platformJSON struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

type config struct {
	Created      time.Time `json:"created"`
	Architecture string    `json:"architecture"`
	Variant      string    `json:"variant,omitempty"`
	OS           string    `json:"os"`
	Config       struct {
		Entrypoint []string `json:"Entrypoint"`
		Cmd        []string `json:"Cmd"`
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

// dockerManifest is one entry of docker's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// archive collects the blobs, each once, in the order they were added.
type archive struct {
	names []string
	blobs map[string][]byte
}

func (a *archive) add(mediaType string, data []byte) descriptor {
	sum := sha256.Sum256(data)
	d := descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: len(data)}
	if _, ok := a.blobs[d.Digest]; !ok {
		a.blobs[d.Digest] = data
		a.names = append(a.names, d.Digest)
	}
	return d
}

func blobPath(digest string) string {
	return "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:")
}

// Write writes img to w.
func Write(w io.Writer, img Image) error {
	name, tag, ok := strings.Cut(img.Tag, ":")
	if !ok || name == "" || tag == "" {
		return fmt.Errorf("ociimage: tag %q: want name:tag", img.Tag)
	}
	a := &archive{blobs: map[string][]byte{}}
	var manifests []descriptor
	var docker []dockerManifest
	for _, p := range img.Platforms {
		d, configDesc, layerDesc, err := a.addPlatform(img, p)
		if err != nil {
			return err
		}
		manifests = append(manifests, d)
		if p.Arch == img.DockerArch {
			docker = append(docker, dockerManifest{Config: blobPath(configDesc.Digest), RepoTags: []string{img.Tag}, Layers: []string{blobPath(layerDesc.Digest)}})
		}
	}
	if img.DockerArch != "" && len(docker) == 0 {
		return fmt.Errorf("ociimage: no %s image for docker's manifest.json", img.DockerArch)
	}
	top, err := a.addIndex(manifests, name, tag)
	if err != nil {
		return err
	}
	return a.write(w, top, docker)
}

// addPlatform adds p's layer, config and manifest to the archive and
// returns their descriptors, the manifest's naming its platform.
func (a *archive) addPlatform(img Image, p Platform) (manifestDesc, configDesc, layerDesc descriptor, err error) {
	layer, diffID, err := layerOf(p.Files)
	if err != nil {
		return descriptor{}, descriptor{}, descriptor{}, err
	}
	layerDesc = a.add(mediaLayer, layer)
	c := config{Created: epoch, Architecture: p.Arch, Variant: p.Variant, OS: "linux"}
	c.Config.Entrypoint, c.Config.Cmd = img.Entrypoint, img.Cmd
	c.RootFS.Type, c.RootFS.DiffIDs = "layers", []string{diffID}
	configJSON, err := json.Marshal(c)
	if err != nil {
		return descriptor{}, descriptor{}, descriptor{}, err
	}
	configDesc = a.add(mediaConfig, configJSON)
	m, err := json.Marshal(manifest{SchemaVersion: 2, MediaType: mediaManifest, Config: configDesc, Layers: []descriptor{layerDesc}})
	if err != nil {
		return descriptor{}, descriptor{}, descriptor{}, err
	}
	manifestDesc = a.add(mediaManifest, m)
	manifestDesc.Platform = &platformJSON{Architecture: p.Arch, OS: "linux", Variant: p.Variant}
	return manifestDesc, configDesc, layerDesc, nil
}

// addIndex adds the image index of manifests to the archive and returns
// index.json, which names it by tag.
func (a *archive) addIndex(manifests []descriptor, name, tag string) ([]byte, error) {
	ix, err := json.Marshal(index{SchemaVersion: 2, MediaType: mediaIndex, Manifests: manifests})
	if err != nil {
		return nil, err
	}
	ixDesc := a.add(mediaIndex, ix)
	// containerd names the image by io.containerd.image.name, skopeo and
	// the OCI tools by the tag alone.
	ixDesc.Annotations = map[string]string{
		"org.opencontainers.image.ref.name": tag,
		"io.containerd.image.name":          fullName(name) + ":" + tag,
	}
	return json.Marshal(index{SchemaVersion: 2, MediaType: mediaIndex, Manifests: []descriptor{ixDesc}})
}

// write writes the layout as a tar: oci-layout, index.json top, docker's
// manifest.json when there is one, then the blobs in the order added.
func (a *archive) write(w io.Writer, top []byte, docker []dockerManifest) error {
	t := tar.NewWriter(w)
	files := []File{{Path: "oci-layout", Mode: 0o644, Data: []byte(`{"imageLayoutVersion":"1.0.0"}`)}, {Path: "index.json", Mode: 0o644, Data: top}}
	if len(docker) > 0 {
		dm, err := json.Marshal(docker)
		if err != nil {
			return err
		}
		files = append(files, File{Path: "manifest.json", Mode: 0o644, Data: dm})
	}
	for _, d := range a.names {
		files = append(files, File{Path: blobPath(d), Mode: 0o644, Data: a.blobs[d]})
	}
	if err := writeTar(t, files, []string{"blobs/", "blobs/sha256/"}); err != nil {
		return err
	}
	return t.Close()
}

// fullName is the name as containerd spells it: docker.io/library/name for
// a bare name.
func fullName(name string) string {
	first, _, hasSlash := strings.Cut(name, "/")
	switch {
	case !hasSlash:
		return "docker.io/library/" + name
	case strings.ContainsAny(first, ".:") || first == "localhost":
		return name
	default:
		return "docker.io/" + name
	}
}

// layerOf is the gzipped tar of files, with the parent folders each needs,
// and its diff id (the digest of the tar before gzip).
func layerOf(files []File) (layer []byte, diffID string, err error) {
	var dirs []string
	seen := map[string]bool{}
	for _, f := range files {
		if !strings.HasPrefix(f.Path, "/") {
			return nil, "", fmt.Errorf("ociimage: %s: not an absolute path", f.Path)
		}
		parts := strings.Split(strings.TrimPrefix(f.Path, "/"), "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/") + "/"
			if !seen[d] {
				seen[d] = true
				dirs = append(dirs, d)
			}
		}
	}
	sort.Strings(dirs)
	var rel []File
	for _, f := range files {
		rel = append(rel, File{Path: strings.TrimPrefix(f.Path, "/"), Mode: f.Mode, Data: f.Data})
	}
	var plain bytes.Buffer
	t := tar.NewWriter(&plain)
	if err := writeTar(t, rel, dirs); err != nil {
		return nil, "", err
	}
	if err := t.Close(); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(plain.Bytes())
	var gz bytes.Buffer
	z, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if _, err := z.Write(plain.Bytes()); err != nil {
		return nil, "", err
	}
	if err := z.Close(); err != nil {
		return nil, "", err
	}
	return gz.Bytes(), "sha256:" + hex.EncodeToString(sum[:]), nil
}

// writeTar writes the folders, then the files, owned by root, at epoch.
func writeTar(t *tar.Writer, files []File, dirs []string) error {
	for _, d := range dirs {
		if err := t.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	for _, f := range files {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.Path, Mode: f.Mode, Size: int64(len(f.Data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := t.WriteHeader(h); err != nil {
			return err
		}
		if _, err := t.Write(f.Data); err != nil {
			return err
		}
	}
	return nil
}
