package publish

import (
	"net/url"
	"regexp"
	"strings"
)

// UTMParams are the campaign parameters added to links. Empty values are
// not added.
type UTMParams struct {
	Source   string // the platform: youtube, facebook, …
	Medium   string // "social" when empty
	Campaign string // the export's campaign label
	Content  string // preset or variant
}

// linkRE finds http(s) links in free text. Trailing punctuation is trimmed
// afterwards, since a sentence often ends right after a link.
var linkRE = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'\x60]+`)

// UTM returns text with utm_source, utm_medium, utm_campaign and
// utm_content added to every http(s) link that does not already set them.
// Other query parameters, their order and the fragment are kept; links
// that do not parse are left alone.
func UTM(text string, p UTMParams) string {
	if p.Medium == "" {
		p.Medium = "social"
	}
	pairs := [][2]string{
		{"utm_source", p.Source},
		{"utm_medium", p.Medium},
		{"utm_campaign", p.Campaign},
		{"utm_content", p.Content},
	}
	return linkRE.ReplaceAllStringFunc(text, func(link string) string {
		link, tail := trimLink(link)
		return tagLink(link, pairs) + tail
	})
}

// trimLink splits trailing punctuation off a matched link; a closing
// bracket stays when the link opened one ("…/Go_(language)").
func trimLink(s string) (link, tail string) {
	end := len(s)
	for end > 0 {
		c := s[end-1]
		switch {
		case strings.IndexByte(".,;:!?*", c) >= 0:
			end--
			continue
		case c == ')' && strings.Count(s[:end], "(") < strings.Count(s[:end], ")"),
			c == ']' && strings.Count(s[:end], "[") < strings.Count(s[:end], "]"),
			c == '}' && strings.Count(s[:end], "{") < strings.Count(s[:end], "}"):
			end--
			continue
		}
		break
	}
	return s[:end], s[end:]
}

func tagLink(link string, pairs [][2]string) string {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return link
	}
	have, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return link
	}
	var add []string
	for _, kv := range pairs {
		if kv[1] == "" || have.Has(kv[0]) {
			continue
		}
		add = append(add, kv[0]+"="+url.QueryEscape(kv[1]))
	}
	if len(add) == 0 {
		return link
	}
	// Splice into the original text rather than re-encoding the URL, so
	// everything the author wrote stays byte for byte.
	base, frag, hasFrag := strings.Cut(link, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	out := base + sep + strings.Join(add, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out
}
