// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// pageHeight is the browser window's height: taller than the dashboard
// (about 8,800 pixels at 1400 wide since the retransmissions' row); the
// blank between it and vmui's footer is cut out (crop).
const pageHeight = 10000

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

// crop writes the picture in to out, quantized, with its longest band of
// blank rows (each of one colour, the same: the page's background between
// the dashboard and vmui's footer, at the bottom of the window) cut down to
// a margin. A picture with no band longer than the margins is an error:
// the dashboard was taller than the window, and its end is missing.
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
	start, length := longestBlankBand(img)
	const margin = 16
	if length <= 2*margin {
		return fmt.Errorf("%s: no blank band between the dashboard and the footer: the dashboard is taller than the window (%d pixels); raise pageHeight", in, img.Bounds().Dy())
	}
	cut := without(img, start+margin, start+length-margin)
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(w, quantize(cut)); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// longestBlankBand is where img's longest run of blank rows of one colour
// starts, and how many rows it has; the first of the longest.
func longestBlankBand(img image.Image) (start, length int) {
	b := img.Bounds()
	blank := func(y int) (color.Color, bool) {
		c := img.At(b.Min.X, y)
		for x := b.Min.X + 1; x < b.Max.X; x++ {
			if img.At(x, y) != c {
				return nil, false
			}
		}
		return c, true
	}
	for y := b.Min.Y; y < b.Max.Y; {
		c, ok := blank(y)
		if !ok {
			y++
			continue
		}
		end := y + 1
		for end < b.Max.Y {
			if c2, ok := blank(end); !ok || c2 != c {
				break
			}
			end++
		}
		if end-y > length {
			start, length = y, end-y
		}
		y = end
	}
	return start, length
}

// without is img without its rows from y0 up to y1.
func without(img image.Image, y0, y1 int) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Max.Y-(y1-y0)))
	draw.Draw(out, image.Rect(b.Min.X, b.Min.Y, b.Max.X, y0), img, b.Min, draw.Src)
	draw.Draw(out, image.Rect(b.Min.X, y0, b.Max.X, out.Bounds().Max.Y), img, image.Pt(b.Min.X, y1), draw.Src)
	return out
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
