package publish

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"outpost/internal/errcode"
)

// Descriptor is what a platform says about itself: who it is, what a post
// to it holds and how each field is counted, how it schedules, how its
// accounts connect, and which presets suit it. Each platform package
// returns its own (youtube.Descriptor()); the registry
// (internal/publish/platforms) lists them. Config, OAuth, the sandbox,
// connections and validation read platform facts from here only.
type Descriptor struct {
	// ID names the platform in connections, URLs, settings and errors:
	// "youtube". Lowercase letters only; never renamed.
	ID string
	// Name is the display name: "YouTube".
	Name string
	// Icon is the platform's mark as inline SVG markup (a constant of the
	// platform package: safe to embed in HTML as it is).
	Icon string
	// Fields are the post fields the platform takes, in form order.
	Fields []Field
	// Features are its native capabilities: scheduling and its window,
	// thumbnails, caption files.
	Features Features
	// OAuth is how its accounts connect.
	OAuth OAuth
	// Env is the platform's part of its settings' names:
	// OUTPOST_<Env>_CLIENT_ID, _CLIENT_SECRET (or _CLIENT_SECRET_FILE) and
	// _BASE_URL.
	Env string
	// Presets are the built-in preset ids that suit the platform, best
	// first.
	Presets []string
	// NewFunc returns the platform's client for baseURL ("" for the real
	// platform, else an emulator's origin such as `outpost sandbox`).
	NewFunc func(baseURL string, hc *http.Client) Publisher
}

// OAuth is a platform's OAuth 2.0 setup (platforms.md §3.1, §4.1, §5.1,
// §6.1, §7.1).
type OAuth struct {
	AuthURL  string
	TokenURL string
	// Scopes are what Outpost asks for: enough to look the account up and
	// publish.
	Scopes []string
	// ScopeSep joins scopes in the authorize URL: Facebook and TikTok take
	// commas, the others spaces.
	ScopeSep string
	// PKCE sends an S256 code_challenge and the code_verifier.
	PKCE bool
	// ClientIDParam is TikTok's "client_key" (sent alongside client_id).
	ClientIDParam string
	// AuthParams are extra authorize parameters (Google: offline access).
	AuthParams map[string]string
	// LongLived is Meta's flavour: the code yields an hour-long token that
	// is exchanged at once for a 60-day one (fb_exchange_token), and there
	// are no refresh tokens: a live long-lived token is exchanged again to
	// renew it.
	LongLived bool
	// AppFrom names the platform whose OAuth app this one uses when it has
	// no settings of its own (Instagram connects through Facebook Login).
	AppFrom string
}

// RemoteAccount is an account a grant may post as.
type RemoteAccount struct {
	ID        string
	Name      string
	AvatarURL string
	// AccessToken, when set, is the account's own token for posts (a
	// Facebook Page token) instead of the grant's: the grant's token is
	// then kept to renew it (OAuth.LongLived platforms only).
	AccessToken string
}

// ErrNoAccount matches the error of Publisher.Accounts when the grant gives
// no account Outpost can post as (a Facebook user without a Page).
var ErrNoAccount = errors.New("publish: the grant gives no account to post as")

// NoAccount returns an error matching ErrNoAccount, carrying
// errcode.OAuthFailed with what is missing and what to do.
func NoAccount(message, remedy string) error {
	return noAccount{&errcode.Error{Code: errcode.OAuthFailed, Message: message, Remedy: remedy}}
}

type noAccount struct{ e *errcode.Error }

func (n noAccount) Error() string        { return n.e.Error() }
func (n noAccount) Unwrap() error        { return n.e }
func (n noAccount) Is(target error) bool { return target == ErrNoAccount }

// FieldKind is how a post field is entered.
type FieldKind string

// The field kinds.
const (
	KindText     FieldKind = "text"     // one line
	KindTextarea FieldKind = "textarea" // several lines
	KindSelect   FieldKind = "select"   // one of Choices
	KindTags     FieldKind = "tags"     // a list of words (Post.Tags)
)

// Count is how a platform counts a text against its limit.
type Count string

// The counting rules (platforms.md §1).
const (
	CountChars Count = "chars" // Unicode code points
	CountBytes Count = "bytes" // UTF-8 bytes (YouTube's description)
	CountUTF16 Count = "utf16" // UTF-16 code units (TikTok's title)
	// CountTags is YouTube's tag total: the tags' characters, a comma
	// between two tags, and two quotes around a tag with a space.
	CountTags Count = "tags"
)

// Len returns the length of s by the rule.
func (c Count) Len(s string) int {
	switch c {
	case CountBytes:
		return len(s)
	case CountUTF16:
		return len(utf16.Encode([]rune(s)))
	}
	return utf8.RuneCountInString(s)
}

// TagsLen returns the length of a tag list by the rule: CountTags as
// described there, the others the sum of the tags' lengths.
func (c Count) TagsLen(tags []string) int {
	n := 0
	for i, t := range tags {
		if c != CountTags {
			n += c.Len(t)
			continue
		}
		if i > 0 {
			n++
		}
		n += utf8.RuneCountInString(t)
		if strings.Contains(t, " ") {
			n += 2
		}
	}
	return n
}

// unit names what the rule counts, for messages.
func (c Count) unit() string {
	switch c {
	case CountBytes:
		return "bytes (UTF-8)"
	case CountUTF16:
		return "UTF-16 units"
	case CountTags:
		return "characters in all"
	}
	return "characters"
}

// Post field names: Field.Name, and the destination fields of the API.
const (
	FieldTitle       = "title"
	FieldDescription = "description"
	// FieldCaption is the one text of the platforms that post one
	// (Post.Text: the caption, else the description).
	FieldCaption = "caption"
	FieldTags    = "tags"
	FieldPrivacy = "privacy"
	FieldFormat  = "format"
)

// Field is one post field of a platform.
type Field struct {
	// Name is the Post field it fills (FieldTitle, …).
	Name  string    `json:"name"`
	Label string    `json:"label"`
	Kind  FieldKind `json:"kind"`
	// Required fields must not be blank; a required select has no
	// Default: the user must choose (TikTok's privacy level).
	Required bool `json:"required,omitempty"`
	// Limit is the most the platform takes, counted by Count.
	Limit int   `json:"limit,omitempty"`
	Count Count `json:"count,omitempty"`
	// Forbid are characters the platform refuses in the field.
	Forbid string `json:"forbid,omitempty"`
	// Choices are a select's values; Default is the one an empty value
	// stands for ("" when the field has none).
	Choices []Choice `json:"choices,omitempty"`
	Default string   `json:"default,omitempty"`
	// Help is a line shown under the field.
	Help string `json:"help,omitempty"`
}

// Choice is one value of a select field.
type Choice struct {
	Value string `json:"value"`
	Label string `json:"label"`
	// Remote, when set, is the platform's own word for it (TikTok's
	// PRIVACY_LEVEL values), accepted as the value too.
	Remote string `json:"remote,omitempty"`
}

// Field returns the descriptor's field name.
func (d Descriptor) Field(name string) (Field, bool) {
	i := slices.IndexFunc(d.Fields, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return d.Fields[i], true
}

// Choice returns the choice of field f that v names (its value or its
// remote word), or the default's when v is empty.
func (f Field) Choice(v string) (Choice, bool) {
	if v == "" {
		v = f.Default
	}
	for _, c := range f.Choices {
		if v != "" && (c.Value == v || c.Remote == v) {
			return c, true
		}
	}
	return Choice{}, false
}

// value returns the post's value of field name: its text, or its tags.
func (p Post) value(name string) (text string, tags []string, ok bool) {
	switch name {
	case FieldTitle:
		return p.Title, nil, true
	case FieldDescription:
		return p.Description, nil, true
	case FieldCaption:
		return p.Text(), nil, true
	case FieldTags:
		return "", p.Tags, true
	case FieldPrivacy:
		return p.Privacy, nil, true
	case FieldFormat:
		return p.Format, nil, true
	}
	return "", nil, false
}

// CheckPost adds to pr what is wrong with the post's fields for the
// platform (required, limits by the platform's count, forbidden
// characters, choices) and with its schedule time (the native window, or
// none: the job layer waits), as of now. It is the one home of these
// rules: clients call it from Validate, and the API and UI check posts
// with ValidatePost.
func (d Descriptor) CheckPost(pr *Problems, p Post, now time.Time) {
	for _, f := range d.Fields {
		text, tags, _ := p.value(f.Name)
		blank := strings.TrimSpace(text) == "" && len(tags) == 0
		switch {
		case blank && f.Required && f.Kind == KindSelect:
			pr.Add(errcode.PostInvalid, "%s: choose %s; %s requires an explicit choice", f.Name, f.choiceList("or"), d.Name)
			continue
		case blank && f.Required:
			pr.Add(errcode.PostInvalid, "%s: %s requires a %s", f.Name, d.Name, strings.ToLower(f.Label))
			continue
		}
		if f.Limit > 0 {
			n := f.Count.Len(text)
			if f.Kind == KindTags {
				n = f.Count.TagsLen(tags)
			}
			if n > f.Limit {
				pr.Add(errcode.CaptionTooLong, "%s: %d %s, %s allows %d", f.Name, n, f.Count.unit(), d.Name, f.Limit)
			}
		}
		if f.Forbid != "" && (strings.ContainsAny(text, f.Forbid) || slices.ContainsFunc(tags, func(t string) bool { return strings.ContainsAny(t, f.Forbid) })) {
			pr.Add(errcode.PostInvalid, "%s: %s does not allow %s", f.Name, d.Name, orList(strings.Split(f.Forbid, "")))
		}
		if f.Kind == KindSelect && text != "" {
			if _, ok := f.Choice(text); !ok {
				pr.Add(errcode.PostInvalid, "%s: %s takes %s, not %q", f.Name, d.Name, f.choiceList("or"), text)
			}
		}
	}
	d.checkSchedule(pr, p.ScheduleAt, now)
}

// checkSchedule checks a future schedule time against the native window;
// a platform without native scheduling refuses one (the job layer holds
// the post until its time instead).
func (d Descriptor) checkSchedule(pr *Problems, at, now time.Time) {
	f := d.Features
	if at.IsZero() {
		return
	}
	if !f.NativeSchedule {
		if at.After(now.Add(time.Minute)) {
			pr.Add(errcode.PostInvalid, "schedule_at: %s has no native scheduling; publish at the planned time instead", d.Name)
		}
		return
	}
	ahead := at.Sub(now)
	if ahead <= 0 {
		return
	}
	tooSoon := ahead < f.MinScheduleAhead
	tooFar := f.MaxScheduleAhead > 0 && ahead > f.MaxScheduleAhead
	switch {
	case (tooSoon || tooFar) && f.MinScheduleAhead > 0 && f.MaxScheduleAhead > 0:
		pr.Add(errcode.PostInvalid, "schedule_at: %s schedules %s to %s ahead", d.Name, span(f.MinScheduleAhead), span(f.MaxScheduleAhead))
	case tooSoon:
		pr.Add(errcode.PostInvalid, "schedule_at: %s schedules at least %s ahead", d.Name, span(f.MinScheduleAhead))
	case tooFar:
		pr.Add(errcode.PostInvalid, "schedule_at: %s schedules at most %s ahead", d.Name, span(f.MaxScheduleAhead))
	}
}

// ValidatePost checks the post's fields and schedule time (CheckPost) and
// returns them as one Permanent *Error, or nil.
func (d Descriptor) ValidatePost(p Post, now time.Time) error {
	pr := Problems{Platform: d.ID}
	d.CheckPost(&pr, p, now)
	return pr.Err()
}

// span writes a duration in the largest whole unit: "10 minutes", "30 days".
func span(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch day := 24 * time.Hour; {
	case d%day == 0:
		return plural(int64(d/day), "day")
	case d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	}
	return d.String()
}

// choiceList lists a select's values: "public, unlisted or private".
func (f Field) choiceList(conj string) string {
	vals := make([]string, len(f.Choices))
	for i, c := range f.Choices {
		vals[i] = c.Value
	}
	if len(vals) < 2 {
		return strings.Join(vals, "")
	}
	return strings.Join(vals[:len(vals)-1], ", ") + " " + conj + " " + vals[len(vals)-1]
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// Problems collects validation failures into one Permanent error whose
// code is the first failure's.
type Problems struct {
	Platform string
	code     errcode.Code
	msgs     []string
}

// Add records a failure with its code.
func (p *Problems) Add(code errcode.Code, format string, args ...any) {
	if p.code == "" {
		p.code = code
	}
	p.msgs = append(p.msgs, fmt.Sprintf(format, args...))
}

// Err returns the collected failures, or nil.
func (p *Problems) Err() error {
	if len(p.msgs) == 0 {
		return nil
	}
	return Invalid(p.Platform, p.code, "%s", strings.Join(p.msgs, "; "))
}

// Check reports what the descriptor itself lacks or gets wrong: an id,
// name, SVG icon, client constructor, OAuth endpoints and scopes, settings
// name, presets, and fields that name a Post field with a kind, a count
// for a limit, and choices (holding the default) for a select.
func (d Descriptor) Check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if d.ID == "" || strings.Trim(d.ID, "abcdefghijklmnopqrstuvwxyz") != "" {
		bad("id %q: want lowercase letters", d.ID)
	}
	if d.Name == "" {
		bad("no name")
	}
	if err := checkSVG(d.Icon); err != nil {
		bad("icon: %v", err)
	}
	if d.NewFunc == nil {
		bad("no NewFunc")
	}
	for _, u := range []string{d.OAuth.AuthURL, d.OAuth.TokenURL} {
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "https" || pu.Host == "" {
			bad("OAuth endpoint %q: want an https URL", u)
		}
	}
	if len(d.OAuth.Scopes) == 0 || (d.OAuth.ScopeSep != " " && d.OAuth.ScopeSep != ",") {
		bad("OAuth: want scopes and a scope separator (space or comma)")
	}
	if d.Env == "" || strings.Trim(d.Env, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
		bad("env %q: want uppercase letters", d.Env)
	}
	if len(d.Presets) == 0 {
		bad("no presets")
	}
	if len(d.Fields) == 0 {
		bad("no post fields")
	}
	seen := map[string]bool{}
	for _, f := range d.Fields {
		if _, _, ok := (Post{}).value(f.Name); !ok || seen[f.Name] {
			bad("field %q: not a Post field, or twice", f.Name)
		}
		seen[f.Name] = true
		if f.Label == "" {
			bad("field %s: no label", f.Name)
		}
		switch f.Kind {
		case KindText, KindTextarea:
		case KindTags:
			if f.Name != FieldTags {
				bad("field %s: tags kind fills Post.Tags only", f.Name)
			}
		case KindSelect:
			if len(f.Choices) == 0 {
				bad("field %s: a select without choices", f.Name)
			}
			if _, ok := f.Choice(f.Default); f.Default != "" && !ok {
				bad("field %s: default %q is not a choice", f.Name, f.Default)
			}
			if f.Required && f.Default != "" {
				bad("field %s: a required choice has no default", f.Name)
			}
		default:
			bad("field %s: kind %q", f.Name, f.Kind)
		}
		if f.Limit > 0 && !slices.Contains([]Count{CountChars, CountBytes, CountUTF16, CountTags}, f.Count) {
			bad("field %s: limit %d without a count rule", f.Name, f.Limit)
		}
	}
	return errors.Join(errs...)
}

// checkSVG checks that s is one well-formed <svg> element.
func checkSVG(s string) error {
	if !strings.HasPrefix(s, "<svg") || !strings.HasSuffix(s, "</svg>") {
		return errors.New("want one <svg> element")
	}
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := dec.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}
