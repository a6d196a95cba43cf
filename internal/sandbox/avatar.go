package sandbox

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
)

// avatarSize is the side of an account's picture, in pixels: what
// platforms hand out for a profile (YouTube's default thumbnail is 88).
const avatarSize = 120

// avatarURL is the profile picture of the sandbox account named account,
// on the origin the request came to.
func (s *Server) avatarURL(r *http.Request, account string) string {
	return s.origin(r) + "/_sandbox/avatar/" + url.PathEscape(account) + ".png"
}

// handleAvatar serves an account's picture: a symmetric 5×5 pattern in a
// colour, both taken from the account's name, so that each sandbox account
// looks like itself in lists (as a real profile picture does).
func handleAvatar(w http.ResponseWriter, r *http.Request) {
	seed := strings.TrimSuffix(r.PathValue("account"), ".png")
	if seed == "" {
		seed = "sandbox"
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(avatarPNG(seed))
}

// avatarPNG draws the picture of seed.
func avatarPNG(seed string) []byte {
	h := sha256.Sum256([]byte(seed))
	fg := hsl(float64(h[0])/255*360, 0.55, 0.45)
	bg := color.RGBA{0xf1, 0xf3, 0xf7, 0xff}
	img := image.NewRGBA(image.Rect(0, 0, avatarSize, avatarSize))
	const cells, margin = 5, 10
	cell := (avatarSize - 2*margin) / cells
	for y := range avatarSize {
		for x := range avatarSize {
			img.Set(x, y, bg)
		}
	}
	for row := range cells {
		for col := range (cells + 1) / 2 {
			if h[1+row*3+col]%2 == 0 {
				continue
			}
			for _, c := range []int{col, cells - 1 - col} {
				for y := margin + row*cell; y < margin+(row+1)*cell; y++ {
					for x := margin + c*cell; x < margin+(c+1)*cell; x++ {
						img.Set(x, y, fg)
					}
				}
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img) // into memory: cannot fail
	return b.Bytes()
}

// hsl converts a colour from hue (degrees), saturation and lightness.
func hsl(hue, s, l float64) color.RGBA {
	c := (1 - abs(2*l-1)) * s
	hp := hue / 60
	x := c * (1 - abs(mod2(hp)-1))
	var r, g, b float64
	switch {
	case hp < 1:
		r, g = c, x
	case hp < 2:
		r, g = x, c
	case hp < 3:
		g, b = c, x
	case hp < 4:
		g, b = x, c
	case hp < 5:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := l - c/2
	to := func(v float64) uint8 { return uint8((v+m)*255 + 0.5) }
	return color.RGBA{to(r), to(g), to(b), 0xff}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// mod2 is v modulo 2, for v ≥ 0.
func mod2(v float64) float64 { return v - 2*float64(int(v/2)) }
