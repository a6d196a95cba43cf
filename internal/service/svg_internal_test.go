package service

import (
	"strings"
	"testing"
)

func TestCheckSVG(t *testing.T) {
	t.Parallel()
	const head = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="60">`
	logo := func(body string) string { return `<?xml version="1.0"?>` + head + body + `</svg>` }
	tests := []struct {
		name, svg string
		refused   string // "" when accepted; else a part of the reason
	}{
		{"a logo", logo(`<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs><circle cx="30" cy="30" r="25" fill="url(#g)"/><text x="60" y="35" style="font: bold 14px sans-serif">Acme</text>`), ""},
		{"an inline PNG", logo(`<image width="10" height="10" href="data:image/png;base64,iVBORw0KGgo="/>`), ""},
		{"a fragment reference", logo(`<use xlink:href="#c"/>`), ""},
		{"a style element", logo(`<style>.a { fill: url(#g); }</style><rect class="a" width="5" height="5"/>`), ""},
		{"a script", logo(`<script>alert(1)</script>`), "it has a script"},
		{"an event handler", strings.Replace(logo(``), "<svg ", `<svg onload="alert(1)" `, 1), "event handler (onload)"},
		{"embedded HTML", logo(`<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>`), "embeds other content"},
		{"an external image", logo(`<image href="https://evil.example/x.png" width="5" height="5"/>`), "outside it"},
		{"a local file", logo(`<image xlink:href="file:///etc/passwd" width="5" height="5"/>`), "outside it"},
		{"an inline SVG", logo(`<image href="data:image/svg+xml;base64,PHN2Zz4=" width="5" height="5"/>`), "outside it"},
		{"a javascript link", logo(`<a href="javascript:alert(1)"><rect width="5" height="5"/></a>`), "outside it"},
		{"an entity", `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "xx">]>` + head + `</svg>`, "DOCTYPE"},
		{"a style sheet instruction", `<?xml-stylesheet href="https://evil.example/a.css"?>` + head + `</svg>`, "<?xml-stylesheet?>"},
		{"an imported style", logo(`<style>@import url(https://evil.example/a.css);</style>`), "imports"},
		{"a remote font", logo(`<style>@font-face { src: url("https://evil.example/f.woff"); }</style>`), "https://evil.example/f.woff"},
		{"a remote fill", logo(`<rect width="5" height="5" fill="url(https://evil.example/p.svg#p)"/>`), "outside it"},
		{"a huge canvas", strings.Replace(logo(``), `width="120"`, `width="200000"`, 1), "at most 10000"},
		{"too many elements", logo(strings.Repeat(`<rect width="1" height="1"/>`, maxSVGElements)), "more than 5000 elements"},
		{"too large", logo(`<desc>` + strings.Repeat("x", maxSVGBytes) + `</desc>`), "at most 1024 KiB"},
		{"not XML", head + `<rect>`, "not well-formed"},
		{"not an SVG root", `<html><svg/></html>`, "root element is <html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkSVG([]byte(tt.svg))
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.refused != "" && err == nil:
				t.Errorf("accepted; want refused for %q", tt.refused)
			case tt.refused != "" && !strings.Contains(err.Error(), tt.refused):
				t.Errorf("reason %q; want it to say %q", err, tt.refused)
			}
		})
	}
}

// FuzzCheckSVG: any bytes get an answer, never a panic, and nothing
// accepted is larger than the limit or holds a script element.
func FuzzCheckSVG(f *testing.F) {
	for _, s := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>`,
		`<svg><script>alert(1)</script></svg>`,
		`<svg><image href="http://example.com/a.png"/></svg>`,
		`<!DOCTYPE svg [<!ENTITY a "b">]><svg>&a;</svg>`,
		`<svg><style>@import url(x.css);</style></svg>`,
		`<svg width="99999" height="1"/>`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if checkSVG(b) != nil {
			return
		}
		if len(b) > maxSVGBytes {
			t.Errorf("accepted %d bytes", len(b))
		}
		if strings.Contains(strings.ToLower(string(b)), "<script") {
			t.Errorf("accepted a script: %q", b)
		}
	})
}
