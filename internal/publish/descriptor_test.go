package publish

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
)

func TestCount_Len(t *testing.T) {
	t.Parallel()
	tests := []struct {
		count Count
		s     string
		want  int
	}{
		{CountChars, "a😀é", 3},
		{CountBytes, "a😀é", 1 + 4 + 2},
		{CountUTF16, "a😀é", 4}, // the emoji is a surrogate pair
		{CountChars, "", 0},
		{CountUTF16, strings.Repeat("😀", 1101), 2202},
		{Count(""), "é", 1}, // no rule: characters
	}
	for _, tt := range tests {
		if got := tt.count.Len(tt.s); got != tt.want {
			t.Errorf("%s.Len(%q) = %d, want %d", tt.count, tt.s, got, tt.want)
		}
	}
}

func TestCount_TagsLen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		count Count
		tags  []string
		want  int
	}{
		{CountTags, []string{"a", "b c"}, 1 + 1 + 3 + 2}, // comma, quotes around "b c"
		{CountTags, []string{"é", "😀"}, 1 + 1 + 1},
		{CountTags, nil, 0},
		{CountChars, []string{"ab", "c d"}, 5},
		{CountBytes, []string{"é"}, 2},
	}
	for _, tt := range tests {
		if got := tt.count.TagsLen(tt.tags); got != tt.want {
			t.Errorf("%s.TagsLen(%q) = %d, want %d", tt.count, tt.tags, got, tt.want)
		}
	}
}

// testDescriptor has one field of each kind and rule.
func testDescriptor() Descriptor {
	return Descriptor{
		ID: "demo", Name: "Demo",
		Fields: []Field{
			{Name: FieldTitle, Label: "Title", Kind: KindText, Required: true, Limit: 5, Count: CountChars, Forbid: "<>"},
			{Name: FieldDescription, Label: "Description", Kind: KindTextarea, Limit: 6, Count: CountBytes},
			{Name: FieldCaption, Label: "Caption", Kind: KindTextarea, Limit: 4, Count: CountUTF16},
			{Name: FieldTags, Label: "Tags", Kind: KindTags, Limit: 7, Count: CountTags},
			{Name: FieldPrivacy, Label: "Privacy", Kind: KindSelect, Required: true, Choices: []Choice{
				{Value: "public", Label: "Everyone", Remote: "PUBLIC_TO_EVERYONE"}, {Value: "private", Label: "Only me"},
			}},
			{Name: FieldFormat, Label: "Format", Kind: KindSelect, Default: "video", Choices: []Choice{
				{Value: "video", Label: "Video"}, {Value: "reel", Label: "Reel"},
			}},
		},
	}
}

func TestDescriptor_CheckPost(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ok := Post{Title: "Hi", Privacy: "private"}
	with := func(f func(*Post)) Post { p := ok; f(&p); return p }
	tests := []struct {
		name string
		p    Post
		code errcode.Code
		msg  string
	}{
		{"ok", ok, "", ""},
		{"remote word", with(func(p *Post) { p.Privacy = "PUBLIC_TO_EVERYONE" }), "", ""},
		{"title at the limit", with(func(p *Post) { p.Title = "ééééé" }), "", ""},
		{"title required", with(func(p *Post) { p.Title = "  " }), errcode.PostInvalid, "title: Demo requires a title"},
		{"title over in characters", with(func(p *Post) { p.Title = "éééééé" }), errcode.CaptionTooLong, "title: 6 characters, Demo allows 5"},
		{"forbidden characters", with(func(p *Post) { p.Title = "a<b" }), errcode.PostInvalid, "title: Demo does not allow < or >"},
		{"description in bytes", with(func(p *Post) { p.Description = "éééé" }), errcode.CaptionTooLong, "description: 8 bytes (UTF-8), Demo allows 6"},
		{"description in chars fits", with(func(p *Post) { p.Description = "ééé" }), "", ""},
		{"caption in UTF-16", with(func(p *Post) { p.Caption = "😀😀a" }), errcode.CaptionTooLong, "caption: 5 UTF-16 units, Demo allows 4"},
		{"caption falls back to description", with(func(p *Post) { p.Description = "abcde" }), errcode.CaptionTooLong, "caption: 5 UTF-16 units"},
		{"tags counted together", with(func(p *Post) { p.Tags = []string{"ab", "c d"} }), errcode.CaptionTooLong, "tags: 8 characters in all, Demo allows 7"},
		{"tags fit", with(func(p *Post) { p.Tags = []string{"ab", "cd"} }), "", ""},
		{"choice required", with(func(p *Post) { p.Privacy = "" }), errcode.PostInvalid, "privacy: choose public or private; Demo requires an explicit choice"},
		{"not a choice", with(func(p *Post) { p.Privacy = "friends" }), errcode.PostInvalid, `privacy: Demo takes public or private, not "friends"`},
		{"optional select empty", with(func(p *Post) { p.Format = "" }), "", ""},
		{"optional select wrong", with(func(p *Post) { p.Format = "story" }), errcode.PostInvalid, `format: Demo takes video or reel, not "story"`},
		{"first code wins", with(func(p *Post) { p.Title = ""; p.Caption = "toolong" }), errcode.PostInvalid, "requires a title; caption: 7 UTF-16 units"},
		{"no native schedule", with(func(p *Post) { p.ScheduleAt = now.Add(time.Hour) }), errcode.PostInvalid, "schedule_at: Demo has no native scheduling"},
		{"now is not a schedule", with(func(p *Post) { p.ScheduleAt = now.Add(30 * time.Second) }), "", ""},
	}
	d := testDescriptor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := d.ValidatePost(tt.p, now)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("ValidatePost: %v", err)
				}
				return
			}
			e, ok := AsError(err)
			if !ok || e.Class != Permanent || e.Platform != "demo" || e.ErrCode() != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("ValidatePost = %v, want a permanent %s containing %q", err, tt.code, tt.msg)
			}
		})
	}
}

func TestDescriptor_CheckPost_schedule(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	window := Features{NativeSchedule: true, MinScheduleAhead: 10 * time.Minute, MaxScheduleAhead: 30 * 24 * time.Hour}
	tests := []struct {
		name     string
		features Features
		ahead    time.Duration
		msg      string // "" for accepted
	}{
		{"inside the window", window, time.Hour, ""},
		{"too soon", window, 5 * time.Minute, "schedule_at: Demo schedules 10 minutes to 30 days ahead"},
		{"too far", window, 31 * 24 * time.Hour, "10 minutes to 30 days"},
		{"past: posts now", window, -time.Hour, ""},
		{"no window", Features{NativeSchedule: true}, 400 * 24 * time.Hour, ""},
		{"minimum only", Features{NativeSchedule: true, MinScheduleAhead: 90 * time.Second}, time.Minute, "at least 1m30s ahead"},
		{"maximum only", Features{NativeSchedule: true, MaxScheduleAhead: 6 * time.Hour}, 7 * time.Hour, "at most 6 hours ahead"},
		{"no native scheduling", Features{}, 2 * time.Minute, "has no native scheduling"},
	}
	for _, tt := range tests {
		d := Descriptor{ID: "demo", Name: "Demo", Features: tt.features}
		err := d.ValidatePost(Post{ScheduleAt: now.Add(tt.ahead)}, now)
		switch {
		case tt.msg == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg) || errcode.Of(err) != errcode.PostInvalid):
			t.Errorf("%s: got %v, want post_invalid containing %q", tt.name, err, tt.msg)
		}
	}
}

func TestField_Choice(t *testing.T) {
	t.Parallel()
	d := testDescriptor()
	privacy, _ := d.Field(FieldPrivacy)
	format, _ := d.Field(FieldFormat)
	tests := []struct {
		f    Field
		v    string
		want string // the choice's value, "" for none
	}{
		{privacy, "public", "public"},
		{privacy, "PUBLIC_TO_EVERYONE", "public"},
		{privacy, "", ""}, // required: no default
		{privacy, "Public", ""},
		{format, "", "video"}, // the default
		{format, "reel", "reel"},
	}
	for _, tt := range tests {
		c, ok := tt.f.Choice(tt.v)
		if c.Value != tt.want || ok != (tt.want != "") {
			t.Errorf("%s.Choice(%q) = %q %v, want %q", tt.f.Name, tt.v, c.Value, ok, tt.want)
		}
	}
	if _, ok := d.Field("nope"); ok {
		t.Error("Field(nope) found")
	}
}

func TestDescriptor_Check(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Descriptor)
		want string
	}{
		{"id", func(d *Descriptor) { d.ID = "Demo-1" }, "lowercase"},
		{"icon", func(d *Descriptor) { d.Icon = "<svg><g></svg>" }, "icon"},
		{"not svg", func(d *Descriptor) { d.Icon = "demo.png" }, "icon"},
		{"endpoint", func(d *Descriptor) { d.OAuth.TokenURL = "http://x/token" }, "https"},
		{"scopes", func(d *Descriptor) { d.OAuth.Scopes = nil }, "scopes"},
		{"env", func(d *Descriptor) { d.Env = "demo" }, "env"},
		{"presets", func(d *Descriptor) { d.Presets = nil }, "presets"},
		{"unknown field", func(d *Descriptor) { d.Fields[0].Name = "subtitle" }, "not a Post field"},
		{"twice", func(d *Descriptor) { d.Fields[1].Name = FieldTitle }, "twice"},
		{"kind", func(d *Descriptor) { d.Fields[0].Kind = "checkbox" }, "kind"},
		{"count", func(d *Descriptor) { d.Fields[0].Count = "" }, "count rule"},
		{"choices", func(d *Descriptor) { d.Fields[5].Choices = nil }, "without choices"},
		{"default", func(d *Descriptor) { d.Fields[5].Default = "story" }, "not a choice"},
		{"required default", func(d *Descriptor) { d.Fields[4].Default = "public" }, "no default"},
		{"tags", func(d *Descriptor) { d.Fields[0].Kind = KindTags }, "Post.Tags"},
		{"no client", func(d *Descriptor) { d.NewFunc = nil }, "NewFunc"},
	}
	valid := func() Descriptor {
		d := testDescriptor()
		d.Icon = `<svg viewBox="0 0 24 24"><circle cx="12" cy="12" r="10"/></svg>`
		d.OAuth = OAuth{AuthURL: "https://demo.example/auth", TokenURL: "https://demo.example/token", Scopes: []string{"post"}, ScopeSep: " "}
		d.Env, d.Presets = "DEMO", []string{"mp4-1080p"}
		d.NewFunc = func(string, *http.Client) Publisher { return nil } // Check only asks that there is one
		return d
	}
	if err := valid().Check(); err != nil {
		t.Fatalf("valid descriptor: %v", err)
	}
	for _, tt := range tests {
		d := valid()
		d.Fields = slices.Clone(d.Fields)
		tt.edit(&d)
		if err := d.Check(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Check = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestSpan(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		10 * time.Minute: "10 minutes", time.Minute: "1 minute", 30 * 24 * time.Hour: "30 days",
		24 * time.Hour: "1 day", 6 * time.Hour: "6 hours", 90 * time.Second: "1m30s",
	} {
		if got := span(d); got != want {
			t.Errorf("span(%v) = %q, want %q", d, got, want)
		}
	}
}
