package render

import (
	"strings"
	"testing"
)

// getToken is libavutil's av_get_token, which ffmpeg uses at both levels
// of filter graph parsing: it skips leading whitespace, reads up to an
// unescaped, unquoted byte of term, removes backslash escapes and single
// quotes, and trims trailing whitespace that was not escaped. It returns
// the token and the rest of buf.
func getToken(buf, term string) (string, string) {
	const ws = " \n\t\r"
	p := strings.TrimLeft(buf, ws)
	var out []byte
	end := 0
	for len(p) > 0 && !strings.ContainsRune(term, rune(p[0])) {
		c := p[0]
		p = p[1:]
		switch {
		case c == '\\' && len(p) > 0:
			out = append(out, p[0])
			p = p[1:]
			end = len(out)
		case c == '\'':
			for len(p) > 0 && p[0] != '\'' {
				out = append(out, p[0])
				p = p[1:]
			}
			if len(p) > 0 {
				p = p[1:]
				end = len(out)
			}
		default:
			out = append(out, c)
		}
	}
	for len(out) > end && strings.ContainsRune(ws, rune(out[len(out)-1])) {
		out = out[:len(out)-1]
	}
	return string(out), p
}

// unescape reads value back as ffmpeg does from
// "[in]subtitles=filename=VALUE[out]".
func unescape(t *testing.T, value string) string {
	t.Helper()
	graph := "[in]subtitles=filename=" + value + "[out];[x]null[y]"
	args, rest := getToken(strings.TrimPrefix(graph, "[in]subtitles="), "[],;")
	if rest != "[out];[x]null[y]" {
		t.Fatalf("graph level: the value ran into the graph: rest %q", rest)
	}
	v, rest := getToken(strings.TrimPrefix(args, "filename="), ":")
	if rest != "" {
		t.Fatalf("option level: the value ran into the next option: rest %q", rest)
	}
	return v
}

func TestEscape(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"/tmp/out/captions.ass",
		"/tmp/it's [a] b,c;d:e\\f.ass",
		" leading and trailing ",
		"gte(t,12.5)*isnan(prev_selected_t)",
		"'",
		"\\",
		"",
	} {
		if got := unescape(t, Escape(s)); got != s {
			t.Errorf("Escape(%q) = %q reads back as %q", s, Escape(s), got)
		}
	}
	if got := Escape("/a b/it's:x.ass"); got != `/a\\\ b/it\\\'s\\:x.ass` {
		t.Errorf("Escape = %s", got)
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"/tmp/a.ass", "it's [x],y;z:w\\", " \t\n", "\xff\xfe'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			t.Skip("C strings end at NUL; no file name holds one")
		}
		if got := unescape(t, Escape(s)); got != s {
			t.Fatalf("Escape(%q) = %q reads back as %q", s, Escape(s), got)
		}
	})
}
