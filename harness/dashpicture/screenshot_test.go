// SPDX-License-Identifier: Apache-2.0

package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// crop cuts the longest blank band (between the dashboard and the footer)
// but for a margin, and keeps the colours.
func TestCrop(t *testing.T) {
	white, red := color.RGBA{255, 255, 255, 255}, color.RGBA{200, 0, 0, 255}
	img := image.NewRGBA(image.Rect(0, 0, 100, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 100; x++ {
			img.Set(x, y, white)
		}
	}
	for y := 10; y < 50; y++ {
		img.Set(30, y, red)
	}
	for y := 390; y < 400; y++ { // the footer
		for x := 0; x < 100; x++ {
			img.Set(x, y, red)
		}
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.png"), filepath.Join(dir, "out.png")
	f, err := os.Create(in)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, img))
	require.NoError(t, f.Close())

	require.NoError(t, crop(in, out))
	f, err = os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	got, err := png.Decode(f)
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 100, 50+16+16+10), got.Bounds())
	require.Equal(t, red, color.RGBAModel.Convert(got.At(30, 49)))
	require.Equal(t, white, color.RGBAModel.Convert(got.At(31, 49)))
	require.Equal(t, white, color.RGBAModel.Convert(got.At(0, 50+31)))
	require.Equal(t, red, color.RGBAModel.Convert(got.At(0, 50+32)))
	require.Equal(t, red, color.RGBAModel.Convert(got.At(99, 50+41)))
}

// A page the dashboard fills to the bottom, with no blank band before the
// footer, lost the dashboard's end: an error, not a picture.
func TestCropRefusesAFullPage(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 100, 400))
	for y := 0; y < 400; y++ {
		img.Set(y%100, y, color.RGBA{200, 0, 0, 255}) // no row blank
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.png")
	f, err := os.Create(in)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, img))
	require.NoError(t, f.Close())
	require.ErrorContains(t, crop(in, filepath.Join(dir, "out.png")), "taller than the window")
}
