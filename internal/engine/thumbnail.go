package engine

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // uploaded thumbnails may be PNG
	"io"
	"math"
	"os"
	"path/filepath"

	"outpost/internal/errcode"
	"outpost/internal/render"
)

// MaxThumbnailUpload caps an uploaded thumbnail image's pixels, so a
// crafted image cannot exhaust memory when decoded.
const MaxThumbnailUpload = 40_000_000

// ThumbnailFromImage turns an uploaded JPEG or PNG into a w×h thumbnail:
// scaled to cover the frame and centre-cropped to its aspect, as a JPEG of
// at most ThumbnailMaxBytes (YouTube's 2 MiB).
func ThumbnailFromImage(r io.Reader, w, h int) ([]byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, errcode.Wrap(errcode.InvalidOption, err, "read the thumbnail")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, errcode.New(errcode.InvalidOption, "the thumbnail is not a JPEG or PNG image")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxThumbnailUpload {
		return nil, errcode.New(errcode.InvalidOption, "the thumbnail is %d×%d: at most %d megapixels", cfg.Width, cfg.Height, MaxThumbnailUpload/1_000_000)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, errcode.New(errcode.InvalidOption, "the thumbnail is not a readable JPEG or PNG image")
	}
	dst := cover(src, w, h)
	var out []byte
	for q := 90; q >= 40; q -= 10 {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, dst, &jpeg.Options{Quality: q}); err != nil {
			return nil, err
		}
		out = b.Bytes()
		if len(out) <= ThumbnailMaxBytes {
			break
		}
	}
	return out, nil
}

// cover scales src to cover w×h and crops the centre, averaging the source
// pixels under each output pixel (a box filter: no aliasing when shrinking).
func cover(src image.Image, w, h int) *image.RGBA {
	b := src.Bounds()
	sw, sh := float64(b.Dx()), float64(b.Dy())
	scale := math.Max(float64(w)/sw, float64(h)/sh)
	// The part of the source shown, in source pixels.
	cw, ch := float64(w)/scale, float64(h)/scale
	x0, y0 := float64(b.Min.X)+(sw-cw)/2, float64(b.Min.Y)+(sh-ch)/2
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		sy0 := int(math.Floor(y0 + float64(y)/scale))
		sy1 := max(sy0+1, int(math.Ceil(y0+float64(y+1)/scale)))
		for x := 0; x < w; x++ {
			sx0 := int(math.Floor(x0 + float64(x)/scale))
			sx1 := max(sx0+1, int(math.Ceil(x0+float64(x+1)/scale)))
			var r, g, bl, n uint64
			for sy := sy0; sy < sy1 && sy < b.Max.Y; sy++ {
				for sx := sx0; sx < sx1 && sx < b.Max.X; sx++ {
					cr, cg, cb, _ := src.At(sx, sy).RGBA()
					r, g, bl, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), n+1
				}
			}
			if n == 0 {
				continue
			}
			i := dst.PixOffset(x, y)
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = uint8(r/n>>8), uint8(g/n>>8), uint8(bl/n>>8), 255
		}
	}
	return dst
}

// checkThumbnailImage makes sure an image given as thumbnail is one we
// read, before any work.
func checkThumbnailImage(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return errcode.New(errcode.InvalidOption, "no thumbnail image at %s", filepath.Base(path))
	}
	defer f.Close()
	if _, _, err := image.DecodeConfig(f); err != nil {
		return errcode.New(errcode.InvalidOption, "thumbnail %s is not a JPEG or PNG image", filepath.Base(path))
	}
	return nil
}

// imageThumbnail writes the image at path as th, at th's size, and removes
// the frame the render offered.
func imageThumbnail(path string, th *render.ThumbnailOutput) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := ThumbnailFromImage(f, th.Width, th.Height)
	if err != nil {
		return err
	}
	_ = os.Remove(fmt.Sprintf(th.Pattern, 1))
	return os.WriteFile(th.Path, data, 0o644)
}
