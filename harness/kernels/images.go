// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
)

// printImages fetches the kernels (from the cache when there) and prints
// one line each, "label<TAB>vmlinuz path", for tools that read the kernels
// themselves (harness/reasons reads their BTF) without booting them.
func printImages(ctx context.Context, w io.Writer, cache string, kernels []pkg) error {
	fetch := newFetcher(cache, kernels)
	for _, p := range kernels {
		dir, err := fetch.unpacked(ctx, p)
		if err != nil {
			return err
		}
		k, err := findKernel(p, dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\n", k.label(), k.Image)
	}
	return nil
}
