package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/publish"
	"outpost/internal/publish/platforms"
)

// accountJSON is a connected account as the modal lists it.
type accountJSON struct {
	ID        string `json:"id"`
	Platform  string `json:"platform"`
	Label     string `json:"platform_label"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatar_url,omitempty"`
	Status    string `json:"status"`
	Icon      string `json:"icon"` // inline SVG, a server constant
	// Files are, on the export page, the export's files that suit the
	// account's platform, best first (outpost.Platform.Formats).
	Files []shareFile `json:"-"`
	// Ticked, on the export page, pre-ticks an account the person saved
	// as a "share to" default that has a file to post and no post of the
	// export yet.
	Ticked bool `json:"-"`
}

// shareFile is a file of an export offered to an account.
type shareFile struct {
	PresetID, Label string
}

// shareFiles gives each account the export's stored files that suit its
// platform, best first.
func shareFiles(accts []accountJSON, plats []outpost.Platform, targets []targetView, cat catalog) {
	var ready []outpost.Preset
	labels := map[string]string{}
	for _, t := range targets {
		if t.DownloadURL == "" {
			continue
		}
		p, ok := cat.presets[t.PresetID] // a user preset, by its base
		if !ok {
			p = outpost.Preset{ID: t.PresetID, Builtin: true}
		}
		ready = append(ready, p)
		labels[t.PresetID] = t.Name + " · " + t.Dims
	}
	for i, a := range accts {
		for _, pl := range plats {
			if pl.ID != a.Platform {
				continue
			}
			for _, id := range pl.Formats(ready) {
				accts[i].Files = append(accts[i].Files, shareFile{PresetID: id, Label: labels[id]})
			}
		}
	}
}

// saveShareDefaults saves the accounts ticked in the export modal as the
// person's "share to" default ("Remember these accounts").
func (h *Handler) saveShareDefaults(w http.ResponseWriter, r *http.Request) error {
	var req outpost.ShareDefaults
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody)).Decode(&req); err != nil {
		return errcode.New(errcode.InvalidJSON, "the accounts could not be read: reload the page and try again")
	}
	d, err := h.svc.Connections.SetShareDefaults(r.Context(), h.callerOf(r), req.ConnectionIDs)
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, d)
	return nil
}

// savedShareDefaults is the signed-in person's "share to" default: the ids
// of their saved accounts; none ([]), and no read, when there is no
// account to share to (accts, from shareOptions).
func (h *Handler) savedShareDefaults(r *http.Request, accts []accountJSON) ([]string, error) {
	if len(accts) == 0 {
		return []string{}, nil
	}
	d, err := h.svc.Connections.ShareDefaults(r.Context(), h.callerOf(r))
	if err != nil {
		return nil, err
	}
	return d.ConnectionIDs, nil
}

// errPublishingOff refuses a share on a server that cannot publish.
var errPublishingOff = &errcode.Error{Code: errcode.PlatformNotConfigured, Message: "publishing is not available on this server",
	Remedy: "Start Outpost with a secret key and the platforms' OAuth apps (OUTPOST_<PLATFORM>_CLIENT_ID/_SECRET), or run `outpost serve --sandbox` to try it."}

// shareOptions lists the workspace's active accounts on configured
// platforms, and those platforms with their post fields (from their
// descriptors: the forms and counters are built from them).
func (h *Handler) shareOptions(ctx context.Context, workspaceID string) ([]accountJSON, []outpost.Platform, error) {
	accts := []accountJSON{}
	var plats []outpost.Platform
	if !h.svc.Connections.Available() {
		return accts, plats, nil
	}
	list, err := h.svc.Connections.List(ctx, workspaceID)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range h.svc.Connections.Platforms() {
		n := len(accts)
		for _, c := range list.Data {
			if c.Platform == p.ID && c.Status == outpost.ConnectionActive && p.Configured {
				accts = append(accts, accountJSON{ID: c.ID, Platform: p.ID, Label: p.Name, Name: c.Name(),
					AvatarURL: h.avatar(c), Status: string(c.Status), Icon: string(icon(p.ID))})
			}
		}
		if len(accts) > n {
			plats = append(plats, p)
		}
	}
	return accts, plats, nil
}

// avatar returns the account's picture URL when the page may show it
// (https, or a configured platform origin such as the sandbox's), else "".
func (h *Handler) avatar(c outpost.Connection) string {
	u := c.AvatarURL
	if strings.HasPrefix(u, "https://") {
		return u
	}
	for _, o := range h.svc.Connections.Origins() {
		if strings.HasPrefix(u, o+"/") {
			return u
		}
	}
	return ""
}

// imgSources are the origins besides 'self' that pages load images from:
// avatars on https and on the configured platform origins (the sandbox).
func (h *Handler) imgSources() string {
	src := []string{"https:"}
	for _, o := range h.svc.Connections.Origins() {
		if strings.HasPrefix(o, "http://") && !strings.ContainsAny(o, " ;'\"") {
			src = append(src, o)
		}
	}
	return strings.Join(src, " ")
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
	State        outpost.PublicationState
	Status       statusView
	PostURL      string
	ScheduleAt   *time.Time
	ScheduleISO  string // for datetime-local inputs, local time
	Error        *flash
	// Action is what helps a failed post (outpost.ActionFor): Retry,
	// Reconnect (the link), or Edit and retry (EditFields, the post's
	// fields with its text, for the form).
	Action outpost.PostAction
	// Sent is how much of an uploading post's file went out, in percent,
	// as its last event said ("" when unknown).
	Sent       string
	Reconnect  string
	CanRetry   bool
	CanEdit    bool
	EditFields []postField
	CanCancel  bool
}

// postField is one field of a post form: the platform's field (from its
// descriptor) and its value.
type postField struct {
	Platform outpost.Platform
	publish.Field
	Value string
}

// postFields are platform p's fields with the values of post.
func postFields(p outpost.Platform, post outpost.PostFields) []postField {
	out := make([]postField, len(p.Fields))
	for i, f := range p.Fields {
		v := ""
		switch f.Name {
		case publish.FieldTitle:
			v = post.Title
		case publish.FieldDescription:
			v = post.Description
		case publish.FieldCaption:
			v = post.Caption
		case publish.FieldPrivacy:
			v = post.Privacy
		case publish.FieldFormat:
			v = post.Format
		case publish.FieldTags:
			v = strings.Join(post.Tags, ", ")
		}
		if v == "" && f.Kind == publish.KindSelect {
			v = f.Default
		}
		out[i] = postField{Platform: p, Field: f, Value: v}
	}
	return out
}

// pubOrder puts the posts that need the person first.
func pubOrder(s outpost.PublicationState) int {
	if s == outpost.PublicationFailed {
		return 0
	}
	return 1
}

// publicationViews shapes an export's publications with their accounts,
// failed ones first.
func (h *Handler) publicationViews(ps []outpost.Publication, exportID string, cat catalog) []pubView {
	out := make([]pubView, 0, len(ps))
	plats := map[string]outpost.Platform{}
	for _, p := range h.svc.Connections.Platforms() {
		plats[p.ID] = p
	}
	for _, p := range ps {
		c, ok := cat.connections[p.ConnectionID]
		if !ok {
			c = outpost.Connection{ID: p.ConnectionID, Platform: p.Platform, AccountName: "a disconnected account"}
		}
		v := pubView{ID: p.ID, Platform: p.Platform, PlatformName: platformLabel(p.Platform), Account: c.Name(),
			AvatarURL: h.avatar(c), ConnectionID: p.ConnectionID, PresetName: presetName(p.Preset, cat.presets),
			State: p.State, Status: pubStatus(p.State), PostURL: p.PostURL, ScheduleAt: p.ScheduleAt, Action: p.Action}
		if p.ScheduleAt != nil {
			v.ScheduleISO = p.ScheduleAt.Local().Format("2006-01-02T15:04")
		}
		if p.State == outpost.PublicationFailed && p.Error != nil {
			v.Error = errorFlash(p.Error)
			v.Error.Title += " — " + v.PlatformName
			switch p.Action {
			case outpost.PostReconnect:
				v.Reconnect = "/connect/" + p.Platform + "?return_to=" + "/exports/" + exportID
				v.Error.Title = "Platform authentication expired — reconnect " + v.PlatformName
			case outpost.PostRetry, outpost.PostEdit:
				v.CanRetry = true
				// Any refused post can be changed and sent again; for some
				// that is the only way (outpost.PostEdit).
				if pl, ok := plats[p.Platform]; ok && c.Status == outpost.ConnectionActive {
					v.CanEdit, v.EditFields = true, postFields(pl, p.Post)
				}
			}
		}
		if !p.State.Final() && p.Error != nil {
			// A live post with an error: its last attempt failed and it
			// is retried. Said, not hidden.
			v.Error = &flash{Kind: "info", Title: "Retrying after an error", Message: outpost.PlainMessage(p.Error.Message),
				Remedy: "Outpost tries again by itself; the message is the platform's last answer."}
		}
		v.CanCancel = p.State == outpost.PublicationPending || p.State == outpost.PublicationScheduled
		if p.OnPlatform() {
			// Uploaded, and the platform itself publishes it at the time:
			// Outpost has no call to move or withdraw it there.
			v.Status.Text = "Scheduled on " + platformLabel(p.Platform)
			v.CanCancel = false
		}
		out = append(out, v)
	}
	slices.SortStableFunc(out, func(a, b pubView) int { return pubOrder(a.State) - pubOrder(b.State) })
	return out
}

// shareForm is the request of the export modal's and the success
// screen's share forms: outpost.Destination as the API takes it, with the
// schedule in the browser's local time.
type shareForm struct {
	Destinations []outpost.Destination `json:"destinations"`
}

// sharePublications shares a finished export to more accounts: the
// service behind POST /api/v1/exports/{id}/publications.
func (h *Handler) sharePublications(w http.ResponseWriter, r *http.Request) error {
	if !h.svc.Connections.Available() {
		return errPublishingOff
	}
	var f shareForm
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody)).Decode(&f); err != nil {
			return errcode.New(errcode.InvalidJSON, "the share request could not be read: reload the page and try again")
		}
	} else {
		var err error
		if f.Destinations, err = h.shareFormDestinations(r); err != nil {
			return err
		}
	}
	if len(f.Destinations) == 0 {
		return &errcode.Error{Code: errcode.InvalidOption, Message: "no account is selected",
			Remedy: "Tick at least one connected account to share to."}
	}
	id := r.PathValue("id")
	if _, err := h.svc.Publications.Share(r.Context(), workspaceOf(r), id, f.Destinations); err != nil {
		return h.destinationError(r.Context(), err, workspaceOf(r), f.Destinations)
	}
	return h.afterAction(w, r, id)
}

// destinationError names the account of a "destinations[i]: …" error, so
// that the message says which post to fix.
func (h *Handler) destinationError(ctx context.Context, err error, workspaceID string, dests []outpost.Destination) error {
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
		rest := outpost.TrimPlatform(strings.TrimPrefix(msg, pre))
		if c, err := h.svc.Connections.Get(ctx, workspaceID, d.ConnectionID); err == nil {
			name = platformLabel(c.Platform) + " (" + c.Name() + ")"
		}
		out := *ce
		out.Message = name + ": " + plainRule(rest)
		return fieldError{&out, "acct:" + d.ConnectionID}
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

// actOnPublication applies act to the viewer's publication {id} and goes
// back to its export.
func (h *Handler) actOnPublication(w http.ResponseWriter, r *http.Request,
	act func(r *http.Request, workspaceID, id string) (outpost.Publication, error),
) error {
	p, err := act(r, workspaceOf(r), r.PathValue("id"))
	if errcode.Of(err) == errcode.NotFound {
		return errcode.New(errcode.NotFound, "this post does not exist in this workspace")
	}
	if err != nil {
		return err
	}
	return h.afterAction(w, r, p.ExportID)
}

func (h *Handler) cancelPublication(w http.ResponseWriter, r *http.Request) error {
	return h.actOnPublication(w, r, func(r *http.Request, ws, id string) (outpost.Publication, error) {
		return h.svc.Publications.Cancel(r.Context(), ws, id)
	})
}

// reschedulePublication takes schedule_at as a datetime-local value in
// the browser's zone: tz_offset is the browser's getTimezoneOffset()
// (minutes behind UTC). Empty means now.
func (h *Handler) reschedulePublication(w http.ResponseWriter, r *http.Request) error {
	at, err := parseLocalTime(r.FormValue("schedule_at"), r.FormValue("tz_offset"))
	if err != nil {
		return err
	}
	return h.actOnPublication(w, r, func(r *http.Request, ws, id string) (outpost.Publication, error) {
		return h.svc.Publications.Reschedule(r.Context(), ws, id, at)
	})
}

// retryPublication queues a failed publication again as it was (same
// file, account and text; the upload resumes and a post already made is
// found, never made twice).
func (h *Handler) retryPublication(w http.ResponseWriter, r *http.Request) error {
	return h.actOnPublication(w, r, func(r *http.Request, ws, id string) (outpost.Publication, error) {
		return h.svc.Publications.Retry(r.Context(), ws, id)
	})
}

// editPublication changes a failed post's text ("<platform>.<field>" as
// the share form names them) and sends it again.
func (h *Handler) editPublication(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return errcode.New(errcode.InvalidOption, "the form could not be read: reload the page and try again")
	}
	ws, id := workspaceOf(r), r.PathValue("id")
	p, err := h.svc.Publications.Get(r.Context(), ws, id)
	if err != nil {
		return err
	}
	var post outpost.PostFields
	if d, ok := platforms.Lookup(p.Platform); ok {
		for _, f := range d.Fields {
			setPostField(&post, f, r.PostFormValue(p.Platform+"."+f.Name))
		}
	}
	return h.actOnPublication(w, r, func(r *http.Request, ws, id string) (outpost.Publication, error) {
		return h.svc.Publications.Edit(r.Context(), ws, id, post)
	})
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

// shareFormDestinations reads the success screen's share form: the
// accounts ticked ("account"), each one's file ("preset.<account>", or
// "preset" for all), the text per platform
// ("<platform>.<field>"), schedule_at with tz_offset, and utm_campaign.
func (h *Handler) shareFormDestinations(r *http.Request) ([]outpost.Destination, error) {
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
	var utm *outpost.UTMOverride
	if c := strings.TrimSpace(r.PostFormValue("utm_campaign")); c != "" {
		utm = &outpost.UTMOverride{Campaign: c}
	}
	var out []outpost.Destination
	for _, id := range r.PostForm["account"] {
		c, err := h.svc.Connections.Get(r.Context(), workspaceOf(r), id)
		if err != nil {
			return nil, errcode.New(errcode.NotFound, "an account ticked is no longer connected: reload the page")
		}
		// Each account's file ("preset.<account>"), else the one file
		// chosen for all.
		file := r.PostFormValue("preset." + c.ID)
		if file == "" {
			file = r.PostFormValue("preset")
		}
		d := outpost.Destination{ConnectionID: c.ID, Preset: file, ScheduleAt: sched, UTM: utm}
		if p, ok := platforms.Lookup(c.Platform); ok {
			for _, f := range p.Fields {
				setPostField(&d.PostFields, f, r.PostFormValue(c.Platform+"."+f.Name))
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// setPostField sets the post's field f to the form value v (tags
// are comma separated).
func setPostField(d *outpost.PostFields, f publish.Field, v string) {
	switch f.Name {
	case publish.FieldTitle:
		d.Title = strings.TrimSpace(v)
	case publish.FieldDescription:
		d.Description = v
	case publish.FieldCaption:
		d.Caption = v
	case publish.FieldPrivacy:
		d.Privacy = v
	case publish.FieldFormat:
		d.Format = v
	case publish.FieldTags:
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				d.Tags = append(d.Tags, t)
			}
		}
	}
}
