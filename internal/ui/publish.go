package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/publish/facebook"
	"outpost/internal/publish/instagram"
	"outpost/internal/publish/linkedin"
	"outpost/internal/publish/platforms"
	"outpost/internal/publish/tiktok"
	"outpost/internal/publish/youtube"
	"outpost/internal/store"
)

// publishService is what the UI needs of jobs.Service for publishing: the
// same calls the API's publication, connection and webhook routes make.
type publishService interface {
	AddPublications(ctx context.Context, workspaceID, exportID string, dests []jobs.Destination) ([]store.Publication, error)
	CancelPublication(ctx context.Context, workspaceID, id string) (store.Publication, error)
	ReschedulePublication(ctx context.Context, workspaceID, id string, at time.Time) (store.Publication, error)
	RetryPublication(ctx context.Context, workspaceID, id string) (store.Publication, error)
	DeleteConnection(ctx context.Context, workspaceID, id string) error
	Redeliver(ctx context.Context, workspaceID, deliveryID string) (store.WebhookDelivery, error)
}

// connector is what the UI needs of connect.Service.
type connector interface {
	Configured(platform string) bool
	BaseURL(platform string) string
}

// fieldLimit is one post field of a platform with its limit, for the
// modal's counters. Count says how the platform counts: "chars"
// (characters), "bytes" (UTF-8), "utf16" (UTF-16 code units) or "tags"
// (YouTube's tag length: commas between, quotes around tags with spaces).
type fieldLimit struct {
	Name  string `json:"name"`  // the Destination field: title, description, caption, tags, privacy
	Label string `json:"label"` // what the form calls it
	Limit int    `json:"limit,omitempty"`
	Count string `json:"count,omitempty"`
	Multi bool   `json:"multiline,omitempty"`
}

// platformFields are the post fields of each platform, with the limits its
// publisher enforces. Facebook, Instagram, LinkedIn and TikTok post one
// text (publish.Post.Text: the caption).
var platformFields = map[string][]fieldLimit{
	youtube.ID: {
		{Name: "title", Label: "Title", Limit: youtube.MaxTitle, Count: "chars"},
		{Name: "description", Label: "Description", Limit: youtube.MaxDescription, Count: "bytes", Multi: true},
		{Name: "tags", Label: "Tags", Limit: youtube.MaxTags, Count: "tags"},
		{Name: "privacy", Label: "Privacy"},
	},
	instagram.ID: {{Name: "caption", Label: "Caption", Limit: instagram.MaxCaption, Count: "chars", Multi: true}},
	linkedin.ID:  {{Name: "caption", Label: "Text", Limit: linkedin.MaxCommentary, Count: "chars", Multi: true}},
	tiktok.ID:    {{Name: "caption", Label: "Caption", Limit: tiktok.MaxTitle, Count: "utf16", Multi: true}},
	facebook.ID:  {{Name: "caption", Label: "Text", Limit: facebook.MaxText, Count: "chars", Multi: true}},
}

// privacyOptions are the choices of the privacy field, per platform.
var privacyOptions = map[string][]string{
	youtube.ID: {"private", "unlisted", "public"},
}

// accountJSON is a connected account as the modal lists it.
type accountJSON struct {
	ID        string `json:"id"`
	Platform  string `json:"platform"`
	Label     string `json:"platform_label"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatar_url,omitempty"`
	Status    string `json:"status"`
	Icon      string `json:"icon"` // inline SVG, a server constant
}

// platformJSON is a platform's post fields for the modal.
type platformJSON struct {
	Platform string       `json:"platform"`
	Label    string       `json:"label"`
	Fields   []fieldLimit `json:"fields"`
	Privacy  []string     `json:"privacy,omitempty"`
}

// shareOptions lists the workspace's active accounts on configured
// platforms and the fields of their platforms.
func (h *Handler) shareOptions(ctx context.Context, workspaceID string) ([]accountJSON, []platformJSON, error) {
	accts := []accountJSON{}
	var plats []platformJSON
	if h.connect == nil || h.publish == nil {
		return accts, plats, nil
	}
	cs, err := h.store.ListConnections(ctx, workspaceID)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, p := range platforms.IDs() {
		for _, c := range cs {
			if c.Platform != p || c.Status != store.ConnectionActive || !h.connect.Configured(p) {
				continue
			}
			accts = append(accts, accountJSON{ID: c.ID, Platform: p, Label: platformLabel(p), Name: accountName(c),
				AvatarURL: h.avatar(c), Status: string(c.Status), Icon: string(icon(p))})
			if !seen[p] {
				seen[p] = true
				plats = append(plats, platformJSON{Platform: p, Label: platformLabel(p), Fields: platformFields[p], Privacy: privacyOptions[p]})
			}
		}
	}
	return accts, plats, nil
}

func accountName(c store.Connection) string {
	if c.AccountName != "" {
		return c.AccountName
	}
	return c.AccountID
}

// avatar returns the account's picture URL when the page may show it
// (https, or the configured platform origin such as the sandbox), else "".
func (h *Handler) avatar(c store.Connection) string {
	u := c.AvatarURL
	if strings.HasPrefix(u, "https://") {
		return u
	}
	if h.connect != nil {
		if b := strings.TrimRight(h.connect.BaseURL(c.Platform), "/"); b != "" && strings.HasPrefix(u, b+"/") {
			return u
		}
	}
	return ""
}

// imgSources are the origins besides 'self' that pages load images from:
// avatars on https and on the configured platform origins (the sandbox).
func (h *Handler) imgSources() string {
	src := []string{"https:"}
	if h.connect == nil {
		return strings.Join(src, " ")
	}
	for _, p := range platforms.IDs() {
		if b := h.connect.BaseURL(p); strings.HasPrefix(b, "http://") && !strings.ContainsAny(b, " ;'\"") {
			src = append(src, strings.TrimRight(b, "/"))
		}
	}
	return strings.Join(src, " ")
}

func (h *Handler) publishing() (publishService, error) {
	if h.publish == nil || h.connect == nil {
		return nil, &errcode.Error{Code: errcode.PlatformNotConfigured, Message: "publishing is not available on this server",
			Remedy: "Start Outpost with a secret key and the platforms' OAuth apps (OUTPOST_<PLATFORM>_CLIENT_ID/_SECRET), or run `outpost serve --sandbox` to try it."}
	}
	return h.publish, nil
}

// pubView is one publication as the export page shows it.
type pubView struct {
	ID           string
	Platform     string
	PlatformName string
	Account      string
	AvatarURL    string
	ConnectionID string
	PresetName   string
	State        store.PublicationState
	Status       statusView
	PostURL      string
	ScheduleAt   *time.Time
	ScheduleISO  string // for datetime-local inputs, local time
	Error        *flash
	Reconnect    string // connect link when the account must be reconnected
	CanRetry     bool
	CanCancel    bool
}

func pubStatus(s store.PublicationState) statusView {
	switch s {
	case store.PublicationPending:
		return statusView{"clock", "Waiting", "queued"}
	case store.PublicationScheduled:
		return statusView{"clock", "Scheduled", "queued"}
	case store.PublicationUploading:
		return statusView{"spinner", "Uploading", "running"}
	case store.PublicationProcessing:
		return statusView{"spinner", "Processing on the platform", "running"}
	case store.PublicationPublished:
		return statusView{"check", "Published", "ok"}
	case store.PublicationFailed:
		return statusView{"x", "Failed", "bad"}
	case store.PublicationCanceled:
		return statusView{"slash", "Canceled", "muted"}
	}
	return statusView{"clock", string(s), "queued"}
}

// publicationViews reads an export's publications with their accounts.
func (h *Handler) publicationViews(ctx context.Context, exportID string, user map[string]store.Preset) ([]pubView, error) {
	ps, err := h.store.ListPublications(ctx, exportID)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	conns := map[string]store.Connection{}
	out := make([]pubView, 0, len(ps))
	for _, p := range ps {
		c, ok := conns[p.ConnectionID]
		if !ok {
			if c, err = h.store.GetConnection(ctx, p.ConnectionID); err != nil {
				c = store.Connection{ID: p.ConnectionID, Platform: p.Platform, AccountName: "a disconnected account"}
			}
			conns[p.ConnectionID] = c
		}
		v := pubView{ID: p.ID, Platform: p.Platform, PlatformName: platformLabel(p.Platform), Account: accountName(c),
			AvatarURL: h.avatar(c), ConnectionID: p.ConnectionID, PresetName: presetName(p.PresetID, user),
			State: p.State, Status: pubStatus(p.State), PostURL: p.PostURL, ScheduleAt: p.ScheduleAt}
		if p.ScheduleAt != nil {
			v.ScheduleISO = p.ScheduleAt.Local().Format("2006-01-02T15:04")
		}
		if p.State == store.PublicationFailed {
			v.CanRetry = true
			v.Error = &flash{Kind: "error", Title: errorTitle(p.ErrorCode), Message: plainMessage(p.ErrorMessage),
				Remedy: errcode.Remedies[p.ErrorCode]}
			if p.ErrorCode == errcode.ConnectionExpired {
				v.Reconnect = "/connect/" + p.Platform + "?return_to=" + "/exports/" + p.ExportID
				v.Error.Title = "Platform authentication expired — reconnect " + platformLabel(p.Platform)
				v.Error.Remedy = "Reconnect the account: the post then goes out by itself."
				v.CanRetry = false
			}
		}
		v.CanCancel = p.State == store.PublicationPending || p.State == store.PublicationScheduled
		if p.State == store.PublicationScheduled && p.PostURL != "" {
			// Uploaded, and the platform itself publishes it at the time:
			// Outpost has no call to move or withdraw it there.
			v.Status.Text = "Scheduled on " + platformLabel(p.Platform)
			v.CanCancel = false
		}
		out = append(out, v)
	}
	return out, nil
}

// shareForm is the request of the export modal's and the success
// screen's share forms: jobs.Destination as the API takes it, with the
// schedule in the browser's local time.
type shareForm struct {
	Destinations []jobs.Destination `json:"destinations"`
}

// sharePublications shares a finished export to more accounts: the
// service behind POST /api/v1/exports/{id}/publications.
func (h *Handler) sharePublications(w http.ResponseWriter, r *http.Request) error {
	e, err := h.loadExport(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	svc, err := h.publishing()
	if err != nil {
		return err
	}
	var f shareForm
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody)).Decode(&f); err != nil {
			return errcode.New(errcode.InvalidJSON, "the share request could not be read: reload the page and try again")
		}
	} else if f.Destinations, err = h.shareFormDestinations(r); err != nil {
		return err
	}
	if len(f.Destinations) == 0 {
		return &errcode.Error{Code: errcode.InvalidOption, Message: "no account is selected",
			Remedy: "Tick at least one connected account to share to."}
	}
	if _, err := svc.AddPublications(r.Context(), workspaceOf(r), e.ID, f.Destinations); err != nil {
		return h.destinationError(r.Context(), err, workspaceOf(r), f.Destinations)
	}
	return h.afterAction(w, r, e.ID)
}

// destinationError names the account of a "destinations[i]: …" error, so
// that the message says which post to fix.
func (h *Handler) destinationError(ctx context.Context, err error, workspaceID string, dests []jobs.Destination) error {
	ce, ok := err.(*errcode.Error)
	if !ok {
		return err
	}
	msg := ce.Message
	for i, d := range dests {
		pre := "destinations[" + itoa(i) + "]: "
		if !strings.HasPrefix(msg, pre) {
			continue
		}
		name := "This post"
		if c, err := h.store.GetConnection(ctx, d.ConnectionID); err == nil && c.WorkspaceID == workspaceID {
			name = platformLabel(c.Platform) + " (" + accountName(c) + ")"
		}
		rest := strings.TrimPrefix(msg, pre)
		if c, err := h.store.GetConnection(ctx, d.ConnectionID); err == nil {
			rest = strings.TrimPrefix(rest, c.Platform+": ") // the publisher's own prefix
		}
		out := *ce
		out.Message = name + ": " + plainRule(rest)
		if out.Remedy == "" && ce.Code == errcode.CaptionTooLong {
			out.Remedy = "Shorten the text to the platform's limit; the counter under each field shows it."
		}
		return &out
	}
	return err
}

// ruleMessage is a publisher's rule message: "title: 120 characters,
// YouTube allows 100".
var ruleMessage = regexp.MustCompile(`^([a-z_]+): (\d[^,;]*), ([A-Z][A-Za-z]* allows .+)$`)

// plainRule rewrites rule messages for people: "Title is 120 characters;
// YouTube allows 100".
func plainRule(msg string) string {
	parts := strings.Split(msg, "; ")
	for i, p := range parts {
		if m := ruleMessage.FindStringSubmatch(p); m != nil {
			field := strings.ReplaceAll(m[1], "_", " ")
			parts[i] = strings.ToUpper(field[:1]) + field[1:] + " is " + m[2] + "; " + m[3]
		}
	}
	return strings.Join(parts, ". ")
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// publicationInWorkspace returns the caller's publication, or not found.
func (h *Handler) publicationInWorkspace(r *http.Request) (store.Publication, error) {
	p, err := h.store.GetPublication(r.Context(), r.PathValue("id"))
	if err != nil || p.WorkspaceID != workspaceOf(r) {
		if err == nil || isNotFound(err) {
			return p, errcode.New(errcode.NotFound, "this post does not exist in this workspace")
		}
		return p, err
	}
	return p, nil
}

func (h *Handler) cancelPublication(w http.ResponseWriter, r *http.Request) error {
	p, err := h.publicationInWorkspace(r)
	if err != nil {
		return err
	}
	svc, err := h.publishing()
	if err != nil {
		return err
	}
	if _, err := svc.CancelPublication(r.Context(), p.WorkspaceID, p.ID); err != nil {
		return err
	}
	return h.afterAction(w, r, p.ExportID)
}

// reschedulePublication takes schedule_at as a datetime-local value in
// the browser's zone: tz_offset is the browser's getTimezoneOffset()
// (minutes behind UTC). Empty means now.
func (h *Handler) reschedulePublication(w http.ResponseWriter, r *http.Request) error {
	p, err := h.publicationInWorkspace(r)
	if err != nil {
		return err
	}
	svc, err := h.publishing()
	if err != nil {
		return err
	}
	at, err := parseLocalTime(r.FormValue("schedule_at"), r.FormValue("tz_offset"))
	if err != nil {
		return err
	}
	if _, err := svc.ReschedulePublication(r.Context(), p.WorkspaceID, p.ID, at); err != nil {
		return err
	}
	return h.afterAction(w, r, p.ExportID)
}

// parseLocalTime reads a datetime-local value at a browser offset.
func parseLocalTime(v, offset string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	loc := time.Local
	if offset != "" {
		var min int
		if err := json.Unmarshal([]byte(offset), &min); err != nil || min < -16*60 || min > 16*60 {
			return time.Time{}, errcode.New(errcode.InvalidOption, "the time zone offset %q cannot be read", offset)
		}
		loc = time.FixedZone("browser", -min*60)
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &errcode.Error{Code: errcode.InvalidOption, Message: "the schedule time " + v + " cannot be read",
		Remedy: "Pick a date and time with the picker, or clear it to post now."}
}

// retryPublication queues a failed publication again as it was (same
// file, account and text; the upload resumes and a post already made is
// found, never made twice).
func (h *Handler) retryPublication(w http.ResponseWriter, r *http.Request) error {
	p, err := h.publicationInWorkspace(r)
	if err != nil {
		return err
	}
	svc, err := h.publishing()
	if err != nil {
		return err
	}
	if _, err := svc.RetryPublication(r.Context(), p.WorkspaceID, p.ID); err != nil {
		return err
	}
	return h.afterAction(w, r, p.ExportID)
}

// shareFormDestinations reads the success screen's share form: the
// accounts ticked ("account"), the file ("preset"), the text per platform
// ("<platform>.<field>"), schedule_at with tz_offset, and utm_campaign.
func (h *Handler) shareFormDestinations(r *http.Request) ([]jobs.Destination, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return nil, errcode.New(errcode.InvalidOption, "the share form could not be read: reload the page and try again")
	}
	at, err := parseLocalTime(r.PostFormValue("schedule_at"), r.PostFormValue("tz_offset"))
	if err != nil {
		return nil, err
	}
	var sched *time.Time
	if !at.IsZero() {
		sched = &at
	}
	var utm *jobs.UTMOverride
	if c := strings.TrimSpace(r.PostFormValue("utm_campaign")); c != "" {
		utm = &jobs.UTMOverride{Campaign: c}
	}
	var out []jobs.Destination
	for _, id := range r.PostForm["account"] {
		c, err := h.store.GetConnection(r.Context(), id)
		if err != nil || c.WorkspaceID != workspaceOf(r) {
			return nil, errcode.New(errcode.NotFound, "an account ticked is no longer connected: reload the page")
		}
		f := func(name string) string { return r.PostFormValue(c.Platform + "." + name) }
		d := jobs.Destination{ConnectionID: c.ID, Preset: r.PostFormValue("preset"), Title: f("title"),
			Description: f("description"), Caption: f("caption"), Privacy: f("privacy"), ScheduleAt: sched, UTM: utm}
		for _, t := range strings.Split(f("tags"), ",") {
			if t = strings.TrimSpace(t); t != "" {
				d.Tags = append(d.Tags, t)
			}
		}
		out = append(out, d)
	}
	return out, nil
}
