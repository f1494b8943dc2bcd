// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// pageHeight is the browser window's height: taller than the dashboard,
// whose empty end is cut off (crop).
const pageHeight = 6000

// screenshot loads url in headless Chromium, width CSS pixels wide, lets
// the page fetch and draw (a virtual-time budget: the page's clock runs
// only as fast as it is ready), and writes the picture to out, cropped to
// the content.
func screenshot(ctx context.Context, chromium, url string, width int, out string) error {
	dir, err := os.MkdirTemp("", "tcpdrop-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		fmt.Sprintf("--window-size=%d,%d", width, pageHeight),
		"--virtual-time-budget=20000",
		"--screenshot="+shot, url)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", chromium, err, b)
	}
	return crop(shot, out)
}

// crop writes the picture in to out, quantized, without the rows at its bottom that
// are all the colour of its bottom-left pixel (the page's background),
// but for a margin.
func crop(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	b := img.Bounds()
	bg := img.At(b.Min.X, b.Max.Y-1)
	last := b.Min.Y
	for y := b.Max.Y - 1; y >= b.Min.Y && last == b.Min.Y; y-- {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.At(x, y) != bg {
				last = y
				break
			}
		}
	}
	const margin = 16
	cut := image.Rect(b.Min.X, b.Min.Y, b.Max.X, min(b.Max.Y, last+1+margin))
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		return fmt.Errorf("%s: a %T cannot be cropped", in, img)
	}
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(w, quantize(sub.SubImage(cut))); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// quantize maps img to a palette of its 256 most frequent colours, each
// pixel to the nearest of them: a page of charts has few colours but for
// the edges of text and lines, and a paletted PNG of it is about a third
// of the size.
func quantize(img image.Image) *image.Paletted {
	b := img.Bounds()
	counts := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := make([]color.RGBA, 0, len(counts))
	for c := range counts {
		colors = append(colors, c)
	}
	sort.Slice(colors, func(i, j int) bool { return counts[colors[i]] > counts[colors[j]] })
	pal := make(color.Palette, 0, 256)
	for _, c := range colors[:min(256, len(colors))] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(b, pal)
	index := map[color.RGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}
