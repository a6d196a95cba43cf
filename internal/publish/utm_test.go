package publish

import (
	"net/url"
	"strings"
	"testing"
)

func TestUTM(t *testing.T) {
	t.Parallel()
	p := UTMParams{Source: "youtube", Campaign: "spring launch", Content: "yt-1080p"}
	const all = "utm_source=youtube&utm_medium=social&utm_campaign=spring+launch&utm_content=yt-1080p"
	tests := []struct {
		name, in, want string
	}{
		{"plain", "see https://example.com/a", "see https://example.com/a?" + all},
		{"http", "http://example.com", "http://example.com?" + all},
		{"no links", "nothing to see here.", "nothing to see here."},
		{"keeps query", "https://x.io/p?b=2&a=1", "https://x.io/p?b=2&a=1&" + all},
		{"keeps set params", "https://x.io/?utm_source=news&utm_campaign=mine",
			"https://x.io/?utm_source=news&utm_campaign=mine&utm_medium=social&utm_content=yt-1080p"},
		{"fragment", "https://x.io/doc#part-2", "https://x.io/doc?" + all + "#part-2"},
		{"query and fragment", "https://x.io/doc?q=1#top", "https://x.io/doc?q=1&" + all + "#top"},
		{"trailing period", "Read https://x.io/a.", "Read https://x.io/a?" + all + "."},
		{"in parens", "(see https://x.io/a)", "(see https://x.io/a?" + all + ")"},
		{"balanced paren", "https://en.wikipedia.org/wiki/Go_(language)", "https://en.wikipedia.org/wiki/Go_(language)?" + all},
		{"two links", "a https://a.io b https://b.io/x?y=1",
			"a https://a.io?" + all + " b https://b.io/x?y=1&" + all},
		{"uppercase scheme", "HTTPS://A.IO/x", "HTTPS://A.IO/x?" + all},
		{"question ends sentence", "Seen https://x.io/?", "Seen https://x.io/?" + all + "?"},
		{"empty query", "https://x.io/?&x=1", "https://x.io/?&x=1&" + all},
		{"not a link", "ftp://x.io/file and mailto:a@b.c", "ftp://x.io/file and mailto:a@b.c"},
		{"all set", "https://x.io/?utm_source=a&utm_medium=b&utm_campaign=c&utm_content=d",
			"https://x.io/?utm_source=a&utm_medium=b&utm_campaign=c&utm_content=d"},
		{"unicode text", "café → https://x.io/é ✓", "café → https://x.io/é?" + all + " ✓"},
		{"encoded query kept", "https://x.io/?q=a%20b&r=%E2%9C%93", "https://x.io/?q=a%20b&r=%E2%9C%93&" + all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := UTM(tt.in, p); got != tt.want {
				t.Errorf("UTM(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestUTM_emptyValuesSkipped(t *testing.T) {
	t.Parallel()
	got := UTM("https://x.io", UTMParams{Source: "tiktok"})
	if want := "https://x.io?utm_source=tiktok&utm_medium=social"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzUTM(f *testing.F) {
	for _, s := range []string{
		"see https://example.com/a?b=1#c.", "(https://x.io/a_(b))", "no link", "https://",
		"http://[::1]:80/x?%zz", "https://x.io/?utm_source=a", "HTTP://A?#", "https://x.io/?&&",
	} {
		f.Add(s)
	}
	p := UTMParams{Source: "linkedin", Campaign: "c", Content: "v"}
	f.Fuzz(func(t *testing.T, text string) {
		once := UTM(text, p)
		if twice := UTM(once, p); twice != once {
			t.Fatalf("not idempotent:\n in %q\n 1x %q\n 2x %q", text, once, twice)
		}
		// Text outside links is untouched: removing every tagged link from
		// both sides leaves the same text.
		strip := func(s string) string { return linkRE.ReplaceAllString(s, "") }
		if strip(once) != strip(text) && !strings.Contains(text, "#") {
			t.Fatalf("text outside links changed:\n in %q\nout %q", text, once)
		}
		for _, m := range linkRE.FindAllString(once, -1) {
			link, _ := trimLink(m)
			u, err := url.Parse(link)
			if err != nil || u.Host == "" {
				continue
			}
			q, err := url.ParseQuery(u.RawQuery)
			if err != nil {
				continue
			}
			if !q.Has("utm_source") || !q.Has("utm_medium") {
				t.Fatalf("link %q in %q not tagged", link, once)
			}
		}
	})
}
