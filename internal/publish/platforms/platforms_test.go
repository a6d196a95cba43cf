package platforms_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/golden"
	"outpost/internal/oauth"
	"outpost/internal/preset"
	"outpost/internal/publish"
	"outpost/internal/publish/internal/pubtest"
	"outpost/internal/publish/platforms"
	"outpost/internal/sandbox"
)

// TestAll_complete checks every registered platform describes itself
// fully: Descriptor.Check, unique ids and settings names, a client of its
// own platform whose features are the descriptor's, presets that exist
// and are its own, and every built-in preset of the platform listed.
func TestAll_complete(t *testing.T) {
	t.Parallel()
	all := platforms.All()
	if len(all) == 0 {
		t.Fatal("no platforms")
	}
	ids, envs := map[string]bool{}, map[string]bool{}
	for _, d := range all {
		t.Run(d.ID, func(t *testing.T) {
			if err := d.Check(); err != nil {
				t.Errorf("incomplete descriptor:\n%v", err)
			}
			if ids[d.ID] || envs[d.Env] {
				t.Errorf("id %q or env %q used twice", d.ID, d.Env)
			}
			ids[d.ID], envs[d.Env] = true, true

			c := d.NewFunc("", nil)
			if c.Platform() != d.ID {
				t.Errorf("NewFunc makes a %q client", c.Platform())
			}
			f := c.Features()
			f.MinScheduleAhead = d.Features.MinScheduleAhead // Facebook's client asks the job layer for a margin
			if f != d.Features {
				t.Errorf("client features %+v, descriptor %+v", c.Features(), d.Features)
			}

			for _, id := range d.Presets {
				p, err := preset.Lookup(id)
				if err != nil {
					t.Errorf("preset %q: %v", id, err)
				} else if p.Platform != d.ID && p.Platform != "generic" {
					t.Errorf("preset %q is for %s", id, p.Platform)
				}
			}
			for _, p := range preset.Builtins() {
				if p.Platform == d.ID && !slices.Contains(d.Presets, p.ID) {
					t.Errorf("built-in preset %q is not among the platform's presets", p.ID)
				}
			}
			if from := d.OAuth.AppFrom; from != "" {
				if _, ok := platforms.Lookup(from); !ok || from == d.ID {
					t.Errorf("AppFrom %q is not another registered platform", from)
				}
			}
		})
	}
	if got := platforms.IDs(); !slices.Equal(got, []string{"youtube", "facebook", "instagram", "linkedin", "tiktok"}) {
		t.Errorf("IDs = %v", got) // display order, and the ids are public
	}
	if _, ok := platforms.Lookup("myspace"); ok {
		t.Error("Lookup(myspace) found")
	}
}

// TestAll_fields pins the facts the UI and API show: which fields each
// platform takes, how each text is counted, and which choice is preset.
func TestAll_fields(t *testing.T) {
	t.Parallel()
	type field struct {
		name     string
		kind     publish.FieldKind
		required bool
		limit    int
		count    publish.Count
		dflt     string
		choices  string
	}
	want := map[string][]field{
		"youtube": {
			{"title", publish.KindText, true, 100, publish.CountChars, "", ""},
			{"description", publish.KindTextarea, false, 5000, publish.CountBytes, "", ""},
			{"tags", publish.KindTags, false, 500, publish.CountTags, "", ""},
			{"privacy", publish.KindSelect, false, 0, "", "public", "public unlisted private"},
		},
		"facebook": {
			{"caption", publish.KindTextarea, false, 63206, publish.CountChars, "", ""},
			{"title", publish.KindText, false, 0, "", "", ""},
			{"format", publish.KindSelect, false, 0, "", "", "video reel"},
			{"privacy", publish.KindSelect, false, 0, "", "public", "public"},
		},
		"instagram": {
			{"caption", publish.KindTextarea, false, 2200, publish.CountChars, "", ""},
			{"privacy", publish.KindSelect, false, 0, "", "public", "public"},
		},
		"linkedin": {
			{"caption", publish.KindTextarea, false, 3000, publish.CountChars, "", ""},
			{"title", publish.KindText, false, 0, "", "", ""},
			{"privacy", publish.KindSelect, false, 0, "", "public", "public connections"},
		},
		// TikTok: the user must choose who can watch; no preselected value
		// (platforms.md §7.5).
		"tiktok": {
			{"caption", publish.KindTextarea, false, 2200, publish.CountUTF16, "", ""},
			{"privacy", publish.KindSelect, true, 0, "", "", "public friends followers private"},
		},
	}
	for _, d := range platforms.All() {
		var got []field
		for _, f := range d.Fields {
			var ch []string
			for _, c := range f.Choices {
				ch = append(ch, c.Value)
			}
			got = append(got, field{f.Name, f.Kind, f.Required, f.Limit, f.Count, f.Default, strings.Join(ch, " ")})
		}
		if !slices.Equal(got, want[d.ID]) {
			t.Errorf("%s fields:\n got %+v\nwant %+v", d.ID, got, want[d.ID])
		}
	}
}

// TestDescriptor_ValidatePost runs each platform's own rules: limits
// counted its way, required fields and choices, scheduling.
func TestDescriptor_ValidatePost(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		platform string
		name     string
		p        publish.Post
		code     errcode.Code
		msg      string
	}{
		{"youtube", "ok", publish.Post{Title: "Launch", Description: "é", Privacy: "unlisted"}, "", ""},
		{"youtube", "empty privacy is public", publish.Post{Title: "Launch"}, "", ""},
		{"youtube", "no title", publish.Post{}, errcode.PostInvalid, "requires a title"},
		{"youtube", "title in characters", publish.Post{Title: strings.Repeat("é", 100)}, "", ""},
		{"youtube", "long title", publish.Post{Title: strings.Repeat("é", 101)}, errcode.CaptionTooLong, "101 characters"},
		{"youtube", "description in bytes", publish.Post{Title: "t", Description: strings.Repeat("é", 2501)}, errcode.CaptionTooLong, "5002 bytes"},
		{"youtube", "angle brackets", publish.Post{Title: "a <b>"}, errcode.PostInvalid, "< or >"},
		{"youtube", "tags with quotes", publish.Post{Title: "t", Tags: []string{strings.Repeat("a", 497), "b c"}}, errcode.CaptionTooLong, "503 characters in all"},
		{"youtube", "privacy", publish.Post{Title: "t", Privacy: "friends"}, errcode.PostInvalid, "public, unlisted or private"},
		{"youtube", "any time ahead", publish.Post{Title: "t", ScheduleAt: now.Add(90 * 24 * time.Hour)}, "", ""},
		{"facebook", "text in characters", publish.Post{Description: strings.Repeat("é", 63206)}, "", ""},
		{"facebook", "long text", publish.Post{Caption: strings.Repeat("a", 63207)}, errcode.CaptionTooLong, "63206"},
		{"facebook", "private", publish.Post{Privacy: "private"}, errcode.PostInvalid, "public"},
		{"facebook", "reel", publish.Post{Format: "reel"}, "", ""},
		{"facebook", "story", publish.Post{Format: "story"}, errcode.PostInvalid, "video or reel"},
		{"facebook", "schedule too soon", publish.Post{ScheduleAt: now.Add(5 * time.Minute)}, errcode.PostInvalid, "10 minutes to 30 days"},
		{"facebook", "schedule too far", publish.Post{ScheduleAt: now.Add(40 * 24 * time.Hour)}, errcode.PostInvalid, "30 days"},
		{"facebook", "schedule inside", publish.Post{ScheduleAt: now.Add(2 * time.Hour)}, "", ""},
		{"instagram", "caption in characters", publish.Post{Caption: strings.Repeat("é", 2201)}, errcode.CaptionTooLong, "2201 characters"},
		{"instagram", "scheduled", publish.Post{ScheduleAt: now.Add(time.Hour)}, errcode.PostInvalid, "no native scheduling"},
		{"linkedin", "connections", publish.Post{Privacy: "connections"}, "", ""},
		{"linkedin", "unlisted", publish.Post{Privacy: "unlisted"}, errcode.PostInvalid, "public or connections"},
		{"linkedin", "commentary", publish.Post{Caption: strings.Repeat("x", 3001)}, errcode.CaptionTooLong, "3001 characters"},
		{"tiktok", "no privacy", publish.Post{}, errcode.PostInvalid, "explicit choice"},
		{"tiktok", "privacy chosen", publish.Post{Privacy: "followers"}, "", ""},
		{"tiktok", "TikTok's own word", publish.Post{Privacy: "SELF_ONLY"}, "", ""},
		{"tiktok", "not a level", publish.Post{Privacy: "unlisted"}, errcode.PostInvalid, "public, friends, followers or private"},
		{"tiktok", "caption in UTF-16", publish.Post{Privacy: "private", Caption: strings.Repeat("😀", 1100)}, "", ""},
		{"tiktok", "caption over in UTF-16", publish.Post{Privacy: "private", Caption: strings.Repeat("😀", 1101)}, errcode.CaptionTooLong, "2202 UTF-16"},
		{"tiktok", "scheduled", publish.Post{Privacy: "private", ScheduleAt: now.Add(time.Hour)}, errcode.PostInvalid, "no native scheduling"},
	}
	for _, tt := range tests {
		t.Run(tt.platform+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			d, ok := platforms.Lookup(tt.platform)
			if !ok {
				t.Fatalf("no %s", tt.platform)
			}
			err := d.ValidatePost(tt.p, now)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("ValidatePost: %v", err)
				}
				return
			}
			e, ok := publish.AsError(err)
			if !ok || e.Class != publish.Permanent || e.ErrCode() != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("ValidatePost = %v, want a permanent %s containing %q", err, tt.code, tt.msg)
			}
		})
	}
}

const docPath = "../../../docs/platforms.md"

// doc renders docs/platforms.md from the descriptors, so the two never
// drift.
func doc() []byte {
	var b strings.Builder
	b.WriteString("# Platforms\n\n")
	b.WriteString("What each publishing platform takes in a destination (`POST /api/v1/exports` `destinations[]`,\n")
	b.WriteString("`POST /api/v1/exports/{id}/publications`) and how Outpost checks it before anything is sent: the\n")
	b.WriteString("limits are counted the platform's way. Failures are `post_invalid` or `caption_too_long`. A\n")
	b.WriteString("platform's `caption` is its one text: the destination's `caption`, else its `description`.\n\n")
	b.WriteString("Generated from the platform descriptors (`internal/publish/<platform>/descriptor.go`) by\n")
	b.WriteString("`go test ./internal/publish/platforms -update`.\n")
	units := map[publish.Count]string{publish.CountChars: "characters", publish.CountBytes: "bytes (UTF-8)",
		publish.CountUTF16: "UTF-16 code units", publish.CountTags: "characters in all (a comma between tags, quotes around a tag with a space)"}
	ahead := func(d time.Duration) string {
		if d%(24*time.Hour) == 0 {
			return fmt.Sprintf("%d days", d/(24*time.Hour))
		}
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	for _, d := range platforms.All() {
		fmt.Fprintf(&b, "\n## %s (`%s`)\n\n", d.Name, d.ID)
		fmt.Fprintf(&b, "| field | label | kind | rules |\n|---|---|---|---|\n")
		for _, f := range d.Fields {
			var rules []string
			if f.Required {
				rules = append(rules, "required")
			}
			if f.Limit > 0 {
				rules = append(rules, fmt.Sprintf("at most %d %s", f.Limit, units[f.Count]))
			}
			if f.Forbid != "" {
				rules = append(rules, "no `"+strings.Join(strings.Split(f.Forbid, ""), "` `")+"`")
			}
			for _, c := range f.Choices {
				s := fmt.Sprintf("`%s` (%s", c.Value, c.Label)
				if c.Remote != "" {
					s += ", also `" + c.Remote + "`"
				}
				if c.Value == f.Default {
					s += ", the default"
				}
				rules = append(rules, s+")")
			}
			if f.Kind == publish.KindSelect && f.Default == "" && f.Required {
				rules = append(rules, "no default: the user chooses")
			}
			text := strings.Join(rules, "; ")
			if text != "" && f.Help != "" {
				text += ". "
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Name, f.Label, f.Kind, text+f.Help)
		}
		b.WriteString("\n")
		switch f := d.Features; {
		case !f.NativeSchedule:
			b.WriteString("- Scheduling: not native; Outpost holds the post and publishes at `schedule_at`.\n")
		case f.MinScheduleAhead > 0 || f.MaxScheduleAhead > 0:
			fmt.Fprintf(&b, "- Scheduling: native, %s to %s ahead (outside that, Outpost holds the post).\n", ahead(f.MinScheduleAhead), ahead(f.MaxScheduleAhead))
		default:
			b.WriteString("- Scheduling: native, any time ahead.\n")
		}
		fmt.Fprintf(&b, "- Presets, best first: `%s`.\n", strings.Join(d.Presets, "`, `"))
		env := "OUTPOST_" + d.Env
		fmt.Fprintf(&b, "- Settings: `%s_CLIENT_ID`, `%s_CLIENT_SECRET` (or `_FILE`), `%s_BASE_URL`", env, env, env)
		if d.OAuth.AppFrom != "" {
			from, _ := platforms.Lookup(d.OAuth.AppFrom)
			fmt.Fprintf(&b, "; without them, %s's app", from.Name)
		}
		b.WriteString(".\n")
		pkce := ""
		if d.OAuth.PKCE {
			pkce = ", PKCE"
		}
		fmt.Fprintf(&b, "- OAuth scopes: `%s`%s.\n", strings.Join(d.OAuth.Scopes, "`, `"), pkce)
	}
	return []byte(b.String())
}

func TestDocs(t *testing.T) {
	t.Parallel()
	golden.Check(t, docPath, doc(), "run go test ./internal/publish/platforms -update")
}

// TestAll_connect connects every registered platform's seeded sandbox
// account with the descriptor's OAuth facts and looks it up with the
// client's Accounts, as connecting does.
func TestAll_connect(t *testing.T) {
	t.Parallel()
	want := map[string]string{ // the account each grant posts as
		"youtube": sandbox.YouTubeChannelID, "facebook": sandbox.FacebookPageID, "instagram": sandbox.InstagramUserID,
		"linkedin": sandbox.LinkedInPersonURN, "tiktok": sandbox.TikTokOpenID,
	}
	e := pubtest.Start(t, sandbox.Options{})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, d := range platforms.All() {
		t.Run(d.ID, func(t *testing.T) {
			t.Parallel()
			dc := sandbox.DefaultClient(d.ID)
			c, err := oauth.New(d.ID, e.URL, oauth.Credentials{ClientID: dc.ID, ClientSecret: dc.Secret,
				RedirectURL: "https://outpost.example/oauth/" + d.ID + "/callback"}, noRedirect)
			if err != nil {
				t.Fatal(err)
			}
			v := oauth.NewVerifier()
			resp, err := noRedirect.Get(c.AuthCodeURL("state", v))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, err := resp.Location()
			if err != nil {
				t.Fatalf("authorize: %s, no redirect", resp.Status)
			}
			tok, err := c.Exchange(t.Context(), loc.Query().Get("code"), v)
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			accts, err := d.NewFunc(e.URL, e.HTTP).Accounts(t.Context(), tok.AccessToken)
			if err != nil {
				t.Fatalf("Accounts: %v", err)
			}
			if len(accts) != 1 || accts[0].ID != want[d.ID] || accts[0].Name == "" {
				t.Fatalf("Accounts = %+v, want %q (a registered platform needs its seeded sandbox account here)", accts, want[d.ID])
			}
			if own := accts[0].AccessToken != ""; own != (d.ID == "facebook") {
				t.Errorf("own token %v: only a Facebook Page posts with a token of its own", own)
			}
		})
	}
}
