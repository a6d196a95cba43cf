package engine

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"outpost/internal/errcode"
)

// TestThumbnailFromImage: a 4:3 PNG, left half red and right half blue,
// becomes a 16:9 JPEG cropped from its centre.
func TestThumbnailFromImage(t *testing.T) {
	t.Parallel()
	src := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			c := color.RGBA{200, 0, 0, 255}
			if x >= 200 {
				c = color.RGBA{0, 0, 200, 255}
			}
			src.Set(x, y, c)
		}
	}
	var in bytes.Buffer
	if err := png.Encode(&in, src); err != nil {
		t.Fatal(err)
	}
	out, err := ThumbnailFromImage(&in, 320, 180)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > ThumbnailMaxBytes {
		t.Errorf("%d bytes", len(out))
	}
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 180 {
		t.Fatalf("size %v", b)
	}
	if r, _, bl, _ := img.At(40, 90).RGBA(); r>>8 < 150 || bl>>8 > 60 {
		t.Errorf("left is %d,%d, want red", r>>8, bl>>8)
	}
	if r, _, bl, _ := img.At(280, 90).RGBA(); bl>>8 < 150 || r>>8 > 60 {
		t.Errorf("right is %d,%d, want blue", r>>8, bl>>8)
	}
	if _, err := ThumbnailFromImage(bytes.NewReader([]byte("GIF89a nope")), 320, 180); errcode.Of(err) != errcode.InvalidOption {
		t.Errorf("not an image: %v", err)
	}
}
