package caption

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// clean normalises a cue's text lines: markup other than <b>, <i> and <u>
// is dropped (SRT <font>, ASS {\…} overrides, WebVTT classes, voices,
// ruby and timestamps), WebVTT character references are decoded (entities
// set), lines are trimmed and empty ones dropped.
func clean(text []string, entities bool) string {
	out := make([]string, 0, len(text))
	for _, l := range text {
		l = stripMarkup(l, !entities)
		if entities {
			l = decodeEntities(l)
		}
		l = strings.TrimSpace(l)
		if l != "" && !onlyTags(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// onlyTags reports a line made only of kept tags, which shows nothing.
func onlyTags(l string) bool {
	for l != "" {
		_, n := keptTag(l)
		if n == 0 {
			return false
		}
		l = strings.TrimSpace(l[n:])
	}
	return true
}

// keptTag returns the normalised form and length of a <b>, <i> or <u> tag
// (opening or closing, any case, with WebVTT classes such as <i.loud>) at
// the start of s, or 0.
func keptTag(s string) (string, int) {
	if len(s) < 3 || s[0] != '<' {
		return "", 0
	}
	end := strings.IndexByte(s[:min(len(s), maxTag)], '>')
	if end < 0 {
		return "", 0
	}
	body := s[1:end]
	closing := strings.HasPrefix(body, "/")
	body = strings.TrimPrefix(body, "/")
	name, _, _ := strings.Cut(body, ".")
	name = strings.ToLower(strings.TrimSpace(name))
	if name != "b" && name != "i" && name != "u" {
		return "", 0
	}
	if closing {
		return "</" + name + ">", end + 1
	}
	return "<" + name + ">", end + 1
}

// tagLen returns the length of any markup tag at the start of s: "<", an
// optional "/", a letter and anything but "<" up to ">"; or a WebVTT
// timestamp tag such as <00:01.500>. A "<" that opens neither ("<3") is
// text.
func tagLen(s string) int {
	if len(s) < 3 || s[0] != '<' {
		return 0
	}
	i := 1
	if s[i] == '/' {
		i++
	}
	if i >= len(s) {
		return 0
	}
	if c := s[i]; c >= '0' && c <= '9' {
		for ; i < len(s) && i < maxTag; i++ {
			switch c := s[i]; {
			case c == '>':
				return i + 1
			case c != ':' && c != '.' && (c < '0' || c > '9'):
				return 0
			}
		}
		return 0
	}
	if !isLetter(s[i]) {
		return 0
	}
	for ; i < len(s) && i < maxTag; i++ {
		switch s[i] {
		case '>':
			return i + 1
		case '<':
			return 0
		}
	}
	return 0
}

func isLetter(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// maxTag bounds the length of a tag or an override block; anything
// longer is text. It also keeps stripping linear in the line's length.
const maxTag = 256

// stripMarkup keeps <b>, <i>, <u> (normalised) and drops other tags; with
// assOverrides it also drops {\…} blocks, which some SRT files carry.
//
// It works on its own output: each ">" or "}" written may close a tag
// that began earlier, even one whose parts were joined by removing another
// ("<<x>i>" is <i>). So the result holds no markup but kept tags, and
// stripping it again changes nothing.
func stripMarkup(l string, assOverrides bool) string {
	out := make([]byte, 0, len(l))
	for i := 0; i < len(l); i++ {
		c := l[i]
		out = append(out, c)
		switch {
		case c == '>':
			lt := bytes.LastIndexByte(out[max(0, len(out)-maxTag):], '<')
			if lt < 0 {
				continue
			}
			lt += max(0, len(out)-maxTag)
			seg := string(out[lt:])
			if t, n := keptTag(seg); n == len(seg) {
				out = append(out[:lt], t...)
			} else if tagLen(seg) == len(seg) {
				out = out[:lt]
			}
		case c == '}' && assOverrides:
			from := max(0, len(out)-maxTag)
			lb := bytes.LastIndex(out[from:], []byte("{\\"))
			if lb < 0 {
				continue
			}
			lb += from
			if bytes.IndexByte(out[lb:len(out)-1], '}') < 0 {
				out = out[:lb]
			}
		}
	}
	return string(out)
}

var namedEntities = map[string]string{
	"amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'",
	"nbsp": "\u00a0", "lrm": "\u200e", "rlm": "\u200f",
}

// decodeEntities decodes the character references WebVTT text uses.
// Unknown ones are left as they are.
func decodeEntities(l string) string {
	if !strings.Contains(l, "&") {
		return l
	}
	var b strings.Builder
	for i := 0; i < len(l); {
		if l[i] == '&' {
			if end := strings.IndexByte(l[i:], ';'); end > 1 && end <= 10 {
				name := l[i+1 : i+end]
				if r, ok := namedEntities[name]; ok {
					b.WriteString(r)
					i += end + 1
					continue
				}
				if r, ok := numericEntity(name); ok {
					b.WriteRune(r)
					i += end + 1
					continue
				}
			}
		}
		b.WriteByte(l[i])
		i++
	}
	return b.String()
}

func numericEntity(name string) (rune, bool) {
	if !strings.HasPrefix(name, "#") {
		return 0, false
	}
	base, digits := 10, name[1:]
	if strings.HasPrefix(digits, "x") || strings.HasPrefix(digits, "X") {
		base, digits = 16, digits[1:]
	}
	n, err := strconv.ParseUint(digits, base, 32)
	// Control characters (a line break among them) would change the
	// cue's lines: they stay as written.
	if err != nil || n < 0x20 || (n >= 0x7f && n < 0xa0) || !utf8.ValidRune(rune(n)) {
		return 0, false
	}
	return rune(n), true
}

// markup returns the normalised tag at the start of text ("<i>", "</b>",
// …) and its length, or 0: in normalised text only these exact forms are
// markup; "<B>" decoded from "&lt;B&gt;" is text.
func markup(text string) (string, int) {
	for _, t := range [...]string{"<b>", "</b>", "<i>", "</i>", "<u>", "</u>"} {
		if strings.HasPrefix(text, t) {
			return t, len(t)
		}
	}
	return "", 0
}

// escapeVTT writes normalised text as WebVTT cue text: the kept tags stay
// markup; every other "&", "<" and ">" is a character reference.
func escapeVTT(text string) string {
	var b strings.Builder
	for i := 0; i < len(text); {
		if t, n := markup(text[i:]); n > 0 {
			b.WriteString(t)
			i += n
			continue
		}
		switch c := text[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
		i++
	}
	return b.String()
}

// escapeSRT writes normalised text as SRT text. SRT has no escapes: a "<"
// that would read as a tag, and "{\" that would read as an override, get a
// zero-width joiner after them so that they stay text.
func escapeSRT(text string) string {
	var b strings.Builder
	for i := 0; i < len(text); {
		if t, n := markup(text[i:]); n > 0 {
			b.WriteString(t)
			i += n
			continue
		}
		c := text[i]
		b.WriteByte(c)
		i++
		if (c == '<' && tagLen(text[i-1:]) > 0) || (c == '{' && i < len(text) && text[i] == '\\') {
			b.WriteString("\u2060")
		}
	}
	return b.String()
}

// assText converts normalised text to an ASS event's text: tags become
// override codes, line breaks \N, and characters ASS would read as codes
// ("{", "}", "\") are kept as text.
func assText(text string) string {
	var b strings.Builder
	for i := 0; i < len(text); {
		if t, n := markup(text[i:]); n > 0 {
			on := "1"
			if t[1] == '/' {
				on = "0"
			}
			b.WriteString(`{\` + string(t[len(t)-2]) + on + `}`)
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		switch r {
		case '\n':
			b.WriteString(`\N`)
		case '{':
			b.WriteString("\uFF5B") // fullwidth: ASS has no escape for braces
		case '}':
			b.WriteString("\uFF5D")
		case '\\':
			// A word joiner after the backslash stops \N, \h, \n from
			// reading as codes.
			b.WriteString("\\\u2060")
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}
