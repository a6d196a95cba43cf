package engine

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"outpost/internal/errcode"
	"outpost/internal/render"
)

// BrandKit is a client's look for local exports, read from a folder (the
// service keeps its kits in the database instead):
//
//	acme/kit.json  {"name": "Acme", "watermark": "logo.svg", "position": "br",
//	                "width": 0.15, "margin": 0.03, "opacity": 0.8,
//	                "intro": "intro.mp4", "outro": "outro.mp4"}
//	acme/logo.svg
//
// Every field is optional; file names are relative to the folder. Without
// kit.json, a watermark.png or watermark.svg in the folder is the kit.
type BrandKit struct {
	Name      string            `json:"name,omitempty"`
	Watermark *render.Watermark `json:"-"`
	Intro     string            `json:"intro,omitempty"`
	Outro     string            `json:"outro,omitempty"`
}

// kitFile is kit.json as written.
type kitFile struct {
	Name      string  `json:"name"`
	Watermark string  `json:"watermark"`
	Position  string  `json:"position"`
	Width     float64 `json:"width"`
	Margin    float64 `json:"margin"`
	Opacity   float64 `json:"opacity"`
	Intro     string  `json:"intro"`
	Outro     string  `json:"outro"`
}

// KitFile is the name of a brand kit folder's settings file.
const KitFile = "kit.json"

// ReadBrandKit reads the brand kit in dir.
func ReadBrandKit(dir string) (*BrandKit, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, errcode.New(errcode.BrandKitInvalid, "no brand kit folder at %s", dir)
	}
	var f kitFile
	b, err := os.ReadFile(filepath.Join(dir, KitFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		for _, name := range []string{"watermark.png", "watermark.svg"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				f.Watermark = name
				break
			}
		}
		if f.Watermark == "" {
			return nil, errcode.New(errcode.BrandKitInvalid, "%s has neither %s nor watermark.png/.svg", dir, KitFile)
		}
	case err != nil:
		return nil, errcode.Wrap(errcode.BrandKitInvalid, err, "read "+KitFile)
	default:
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, errcode.Wrap(errcode.BrandKitInvalid, err, filepath.Join(dir, KitFile)+" is not valid JSON")
		}
	}
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	k := &BrandKit{Name: f.Name, Intro: rel(f.Intro), Outro: rel(f.Outro)}
	if k.Name == "" {
		k.Name = filepath.Base(dir)
	}
	if f.Watermark != "" {
		pos, err := render.ParsePosition(f.Position)
		if err != nil {
			return nil, errcode.Wrap(errcode.BrandKitInvalid, err, KitFile+": position")
		}
		k.Watermark = &render.Watermark{Path: rel(f.Watermark), Position: pos, Width: f.Width, Margin: f.Margin, Opacity: f.Opacity}
	}
	for _, p := range []string{k.Intro, k.Outro} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return nil, errcode.New(errcode.BrandKitInvalid, "brand kit %s: no clip at %s", k.Name, p)
		}
	}
	return k, nil
}
