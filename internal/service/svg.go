package service

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits of an uploaded SVG watermark: a logo has tens of elements and is
// a few kilobytes; ffmpeg rasterises every element, at the size the file
// says before it is scaled.
const (
	maxSVGBytes    = 1 << 20
	maxSVGElements = 5000
	maxSVGSide     = 10000
)

// checkSVG refuses an SVG watermark that could act or reach out where it
// is shown (its signed link opens in a browser) or rasterised: scripts,
// event handlers, embedded HTML, DTDs and entities (XXE, entity
// expansion), references to anything but its own fragments and inline
// images, style sheets that import or load from elsewhere, and sizes no
// logo needs. The reason it returns is for the person who uploaded it.
func checkSVG(data []byte) error {
	if len(data) > maxSVGBytes {
		return fmt.Errorf("it is %d KiB; an SVG logo may be at most %d KiB", len(data)>>10, maxSVGBytes>>10)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	elements, depth, inStyle := 0, 0, false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if elements == 0 {
				return errors.New("it has no <svg> element")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("it is not well-formed XML (%v)", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return errors.New("it has a DOCTYPE or entity declaration")
		case xml.ProcInst:
			if t.Target != "xml" {
				return fmt.Errorf("it has a <?%s?> instruction", t.Target)
			}
		case xml.StartElement:
			elements++
			if elements > maxSVGElements {
				return fmt.Errorf("it has more than %d elements", maxSVGElements)
			}
			name := strings.ToLower(t.Name.Local)
			if depth == 0 && name != "svg" {
				return fmt.Errorf("its root element is <%s>, not <svg>", t.Name.Local)
			}
			switch name {
			case "script":
				return errors.New("it has a script")
			case "foreignobject", "iframe", "embed", "object":
				return fmt.Errorf("it embeds other content (<%s>)", t.Name.Local)
			}
			inStyle = name == "style"
			for _, a := range t.Attr {
				if err := checkSVGAttr(name, depth, a); err != nil {
					return err
				}
			}
			depth++
		case xml.EndElement:
			depth--
			inStyle = false
		case xml.CharData:
			if inStyle {
				if err := checkCSS(string(t)); err != nil {
					return err
				}
			}
		}
	}
}

// checkSVGAttr checks one attribute of an element (elem, at depth).
func checkSVGAttr(elem string, depth int, a xml.Attr) error {
	name := strings.ToLower(a.Name.Local)
	switch {
	case strings.HasPrefix(name, "on"):
		return fmt.Errorf("it has an event handler (%s)", a.Name.Local)
	case name == "href" || name == "src":
		if !localRef(a.Value) {
			return fmt.Errorf("it refers to a file or address outside it (%s=%q)", a.Name.Local, short(a.Value))
		}
	case name == "style":
		return checkCSS(a.Value)
	case depth == 0 && (name == "width" || name == "height"):
		if n, err := strconv.ParseFloat(strings.TrimRight(strings.TrimSpace(a.Value), "px"), 64); err == nil && n > maxSVGSide {
			return fmt.Errorf("it is %s %s; at most %d", a.Value, map[string]string{"width": "wide", "height": "high"}[name], maxSVGSide)
		}
	}
	if strings.Contains(strings.ToLower(a.Value), "url(") {
		return checkCSS(a.Value)
	}
	return nil
}

// checkCSS refuses style text that imports or loads from elsewhere.
func checkCSS(s string) error {
	low := strings.ToLower(s)
	if strings.Contains(low, "@import") {
		return errors.New("its style imports another style sheet")
	}
	for rest := low; ; {
		i := strings.Index(rest, "url(")
		if i < 0 {
			return nil
		}
		rest = rest[i+4:]
		ref := strings.TrimLeft(rest, " \t\n'\"")
		if !localRef(ref) {
			end := strings.IndexByte(ref, ')')
			if end < 0 {
				end = len(ref)
			}
			return fmt.Errorf("its style loads %q from outside it", short(strings.Trim(ref[:end], " '\"")))
		}
	}
}

// localRef reports whether a reference stays inside the file: a fragment
// (#logo) or an inline image (data:image/png;base64,…, not an SVG, which
// could hold anything).
func localRef(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return strings.HasPrefix(v, "#") ||
		(strings.HasPrefix(v, "data:image/") && !strings.HasPrefix(v, "data:image/svg"))
}

// short cuts a value for a message.
func short(s string) string {
	if len(s) > 60 {
		return s[:57] + "…"
	}
	return s
}
