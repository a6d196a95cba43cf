package render

import "strings"

// Escape makes s safe as the value of a filter option inside a
// -filter_complex graph (a file name for subtitles=, an expression for
// select=). It is the one place filter strings are escaped.
//
// ffmpeg unescapes such a value twice (see "Notes on filtergraph escaping"
// in ffmpeg-filters(1)): first when it splits the graph into filters, where
// \ ' [ ] , ; are special, then when it splits the filter's options, where
// \ ' : are. So the value is escaped for the option level, and the result
// again for the graph level. Whitespace is escaped at both levels because
// both trim it from the ends of a token.
func Escape(s string) string {
	return escapeLevel(escapeLevel(s, `\':`), `\'[],;`)
}

func escapeLevel(s, special string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	// Bytes, not runes: every special character is ASCII, and a name that
	// is not UTF-8 must reach ffmpeg unchanged.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(special, c) >= 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
