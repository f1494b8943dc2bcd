// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"

	"github.com/cilium/ebpf/btf"
)

// A compression is a format a kernel image's payload may be packed in: its
// magic and the program that unpacks a stream starting at the magic.
type compression struct {
	magic []byte
	cmd   []string
}

// compressions are the formats of the list's kernels and of most
// distributions' (CONFIG_KERNEL_*): Debian's 5.10 and 6.1 use lz4 (the
// legacy frame), 6.12 and later zstd; arm64 images may be gzip'd or plain.
var compressions = []compression{
	{[]byte{0x28, 0xb5, 0x2f, 0xfd}, []string{"zstd", "-dcq"}},
	{[]byte{0x02, 0x21, 0x4c, 0x18}, []string{"lz4", "-dcq"}},
	{[]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, []string{"xz", "-dcq", "--single-stream"}},
	{[]byte{0x1f, 0x8b, 0x08}, []string{"gzip", "-dcq"}},
}

// imageBTF reads the vmlinux BTF inside a kernel image (vmlinuz): from the
// image itself when it is not compressed (an arm64 Image), else from the
// payload unpacked at the first offset where one of the compressions'
// magic starts a stream that holds BTF. The image's own bytes after the
// payload make the unpackers complain; what they wrote is used anyway.
func imageBTF(ctx context.Context, path string) (*btf.Spec, error) {
	image, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if spec := findBTF(image); spec != nil {
		return spec, nil
	}
	for _, c := range compressions {
		for off := 0; ; off++ {
			i := bytes.Index(image[off:], c.magic)
			if i < 0 {
				break
			}
			off += i
			cmd := exec.CommandContext(ctx, c.cmd[0], c.cmd[1:]...)
			cmd.Stdin = bytes.NewReader(image[off:])
			payload, _ := cmd.Output()
			if spec := findBTF(payload); spec != nil {
				return spec, nil
			}
		}
	}
	return nil, fmt.Errorf("%s: no BTF in the image nor in a payload that zstd, lz4, xz or gzip unpacks", path)
}

// btfMagic starts a little-endian BTF header of the usual length (24): the
// magic 0xeB9F, version 1, no flags.
var btfMagic = []byte{0x9f, 0xeb, 0x01, 0x00, 24, 0, 0, 0}

// findBTF finds the largest BTF blob in b (a vmlinux ELF or raw image holds
// one, the kernel's; other matches are chance bytes that do not parse).
func findBTF(b []byte) *btf.Spec {
	var best *btf.Spec
	bestLen := 0
	for off := 0; ; off++ {
		i := bytes.Index(b[off:], btfMagic)
		if i < 0 {
			return best
		}
		off += i
		if off+24 > len(b) {
			return best
		}
		// Header: magic, version, flags, hdr_len, then type_off,
		// type_len, str_off, str_len; the strings end the blob.
		h := b[off+8 : off+24]
		strOff := binary.LittleEndian.Uint32(h[8:])
		strLen := binary.LittleEndian.Uint32(h[12:])
		end := uint64(off) + 24 + uint64(strOff) + uint64(strLen)
		if end > uint64(len(b)) || int(end)-off <= bestLen {
			continue
		}
		spec, err := btf.LoadSpecFromReader(bytes.NewReader(b[off:end]))
		if err != nil {
			continue
		}
		best, bestLen = spec, int(end)-off
		off = int(end) - 1
	}
}
