package outpost

import (
	"regexp"
	"strings"

	"outpost/internal/errcode"
	"outpost/internal/preset"
	"outpost/internal/publish/platforms"
)

// Explanation is a failure in plain words for people: a headline, what
// happened, what to do, and the stable code for a details line. Messages
// written for scripts (request paths, internal ids, ffmpeg's log, a
// token endpoint's answer) never reach it.
type Explanation struct {
	Title   string
	Message string
	Remedy  string
	Code    errcode.Code
}

// plainCode is how one code reads for people. Message, when set, replaces
// the failure's own message (which is for logs and scripts); Remedy, when
// set, replaces the code's remedy (which speaks of the API and the CLI).
type plainCode struct {
	Title, Message, Remedy string
}

// plainCodes are the codes people meet in the web UI. A code missing here
// has the generic title, its own message (cleaned) and its remedy.
var plainCodes = map[errcode.Code]plainCode{
	errcode.SourceNotFound:   {Title: "The file can't be found", Message: "The source file could not be found."},
	errcode.SourceEmpty:      {Title: "This file can't be used", Message: "The file is empty (0 bytes).", Remedy: "Upload or export the master again."},
	errcode.SourceUnreadable: {Title: "This file can't be used", Message: "The file is not a video Outpost can read."},
	errcode.SourceTruncated:  {Title: "This file can't be used", Message: "The file is cut short: its end is missing."},
	errcode.SourceNoVideo:    {Title: "No video in this file", Message: "The file has no picture (is it audio only?)."},
	errcode.SourceDamaged:    {Title: "Made from a damaged source", Remedy: "Export the master again from your editor, or use it as it is if the damage does not show."},
	errcode.TimedOut:         {Title: "That took too long", Message: "The server did not finish in time.", Remedy: "Try again in a moment; a shorter clip or fewer formats is quicker."},
	errcode.UnknownPreset:    {Title: "Unknown format", Remedy: "Pick one of the formats the export dialog lists."},
	errcode.InvalidOption:    {Title: "Check the settings", Remedy: "Fix the setting named above, then try again."},
	errcode.PlatformRule:     {Title: "A format can't be made from this video"},
	errcode.FFmpegMissing:    {Title: "Rendering is not set up", Message: "This server cannot render: ffmpeg is missing.", Remedy: "Ask your admin to install ffmpeg 5.1 or newer."},
	errcode.EncoderMissing:   {Title: "Rendering is not set up", Message: "This server's ffmpeg lacks an encoder this format needs.", Remedy: "Ask your admin to install a full ffmpeg build (Debian's ffmpeg package)."},
	errcode.RenderFailed:     {Title: "Rendering failed", Message: "ffmpeg stopped before the file was finished.", Remedy: "Retry the export; if it fails again, give your admin the export's id."},
	errcode.OutputWriteFailed: {Title: "The file could not be stored", Message: "The rendered file could not be written.",
		Remedy: "Retry the export; if it fails again, ask your admin to check the server's storage."},
	errcode.DiskFull:       {Title: "The server is out of space", Message: "The server ran out of disk space.", Remedy: "Ask your admin to free space, or export at a lower quality."},
	errcode.CheckFailed:    {Title: "The file could not be checked", Message: "The rendered file could not be checked against the platform's rules.", Remedy: "Retry the export."},
	errcode.Canceled:       {Title: "Canceled"},
	errcode.DBUnavailable:  {Title: "The server is not ready", Message: "The server cannot reach its database right now.", Remedy: "Try again in a minute; if it lasts, tell your admin."},
	errcode.LinkExpired:    {Title: "The link has expired"},
	errcode.FileNotFound:   {Title: "The file has expired", Message: "The file was deleted after its retention period.", Remedy: "Use Re-render on the export to make it again with the same settings."},
	errcode.CaptionInvalid: {Title: "The captions file can't be read"},
	errcode.WatermarkInvalid: {Title: "The watermark can't be used",
		Remedy: "Upload a PNG (with transparency for a logo) or an SVG."},
	errcode.SVGUnsupported:  {Title: "SVG watermarks are not available here", Remedy: "Upload a PNG instead, or ask your admin for an ffmpeg with librsvg."},
	errcode.TimelineInvalid: {Title: "Check the clips"},
	errcode.BrandKitInvalid: {Title: "Check the brand kit", Remedy: "Fix the setting named above, then save the kit again."},
	errcode.Internal:        {Title: "Something went wrong", Message: "An unexpected error happened.", Remedy: "Try again; if it keeps failing, tell your admin (the server's log has the details)."},

	errcode.Unauthorized:         {Title: "Please sign in", Message: "Your session has ended.", Remedy: "Sign in again, then retry."},
	errcode.NotFound:             {Title: "Not found", Remedy: "It may have been deleted, or belong to another workspace: go back and reload."},
	errcode.MethodNotAllowed:     {Title: "That can't be done here", Remedy: "Reload the page and try again."},
	errcode.Conflict:             {Title: "That can't be done now", Remedy: "Reload the page to see the current state, then decide again."},
	errcode.IdempotencyKeyReused: {Title: "Sent twice", Remedy: "Reload the page and try again."},
	errcode.InvalidJSON:          {Title: "The form could not be read", Remedy: "Reload the page and try again."},
	errcode.PayloadTooLarge:      {Title: "File too large", Remedy: "Use a smaller file, or ask your admin to raise the upload limit."},
	errcode.UnsupportedMediaType: {Title: "The form could not be read", Remedy: "Reload the page and try again."},
	errcode.URLNotAllowed:        {Title: "That link can't be imported", Remedy: "Use a public http(s) link to the video file."},
	errcode.SourceFetchFailed:    {Title: "That link can't be imported"},
	errcode.RateLimited:          {Title: "Too many tries", Remedy: "Wait a minute, then try again."},
	errcode.Forbidden:            {Title: "Not allowed", Remedy: "Ask a workspace owner or admin for a role that allows it."},
	errcode.PlanLimit:            {Title: "Over your plan's limit"},
	errcode.InviteInvalid:        {Title: "This invite can't be used", Remedy: "Ask a workspace admin for a new invite."},
	errcode.EmailNotConfigured:   {Title: "Email is not set up", Message: "This server sends no email.", Remedy: "Copy the link and send it yourself, or ask your admin to set up email."},

	errcode.ConnectionExpired: {Title: "Platform authentication expired", Message: "The platform no longer accepts Outpost's access to this account.",
		Remedy: "Reconnect the account: posts that waited for it then go out by themselves."},
	errcode.ConnectionUnreadable: {Title: "The account's sign-in can't be read on this server", Message: "This server cannot open the account's stored sign-in.",
		Remedy: "Reconnect the account, then retry the post; if it happens again, tell your admin (the servers' keys differ)."},
	errcode.PublicationStuck: {Title: "The post stopped moving", Message: "Publishing stopped making progress, so it was stopped.",
		Remedy: "Retry the post: one already made is found, never made twice; if it sticks again, tell your admin."},
	errcode.PlatformRejected: {Title: "The platform refused the post",
		Remedy: "Check the platform's reason, change the file or the text if it asks for that, then retry."},
	errcode.PlatformRateLimited: {Title: "The platform asks to wait", Message: "The platform's rate limit or daily quota is used up.",
		Remedy: "Nothing to do: the post goes out by itself after the reset."},
	errcode.PlatformUnavailable: {Title: "The platform did not answer", Message: "The platform failed or could not be reached, several times.",
		Remedy: "Retry the post; if it keeps failing, check the platform's status page."},
	errcode.CaptionTooLong: {Title: "Text too long for the platform", Remedy: "Shorten the text to the platform's limit; the counter under each field shows it."},
	errcode.PostInvalid:    {Title: "Check the post", Remedy: "Change the setting named above, then send the post again."},
	errcode.PlatformNotConfigured: {Title: "Publishing is not set up",
		Remedy: "Ask your admin to add the platform's app (OUTPOST_<PLATFORM>_CLIENT_ID and _CLIENT_SECRET), or run `outpost serve --sandbox` to try it."},
	errcode.ScheduledOnPlatform: {Title: "Scheduled on the platform", Remedy: "Change its time or delete it on the platform itself."},
	errcode.PublicationAbandoned: {Title: "The post did not go out", Message: "Publishing stopped before the post was made (its retries ran out).",
		Remedy: "Retry the post."},
	errcode.OAuthFailed: {Title: "The account was not connected", Remedy: "Start connecting it again from the Connections page and approve the request."},
}

// idInMessage is an internal id in a message ("connection con_x7…"),
// with the parentheses or quotes around it: people do not need it, and
// the details line has what support needs.
var idInMessage = regexp.MustCompile(`\s*[("]?\b(?:wsp|usr|ses|key|prj|pst|exp|rnd|con|pub|whk|dlv|evt|bkt|grp|inv|aud)_[0-9A-Za-z]+\b[)"]?`)

// targetPrefix is where in a request a failure is: "targets[2] (tiktok): ".
var targetPrefix = regexp.MustCompile(`targets\[\d+\] \(([^)]+)\): `)

// ruleNames are platform rule names at the head of a rule's message.
var ruleNames = []string{"max_duration: ", "min_duration: ", "max_size: ", "fps: "}

// Explain says a failure with code and message in plain words.
func Explain(code errcode.Code, message string) Explanation {
	pc := plainCodes[code]
	x := Explanation{Title: pc.Title, Message: pc.Message, Remedy: pc.Remedy, Code: code}
	if x.Title == "" {
		x.Title = "Something went wrong"
	}
	if x.Message == "" {
		x.Message = PlainMessage(message)
	}
	if x.Message == "" {
		x.Message = x.Title + "."
	}
	if x.Remedy == "" {
		x.Remedy = errcode.Remedies[code]
	}
	return x
}

// ExplainError is Explain of a coded error, keeping a remedy the error
// brings for its case.
func ExplainError(e *errcode.Error) Explanation {
	x := Explain(e.Code, e.Message)
	if e.Remedy != "" {
		x.Remedy = e.Remedy
	}
	return x
}

// PlainMessage turns a message written for the API into one for people:
// a "targets[2] (tiktok): " prefix becomes "TikTok: ", a leading rule name
// ("max_duration: ") goes, and so does a platform client's own prefix
// ("tiktok: "; the page says which platform), internal ids go, and it
// starts with a capital.
func PlainMessage(msg string) string {
	msg = TrimPlatform(msg)
	msg = targetPrefix.ReplaceAllStringFunc(msg, func(m string) string {
		name := targetPrefix.FindStringSubmatch(m)[1]
		if p, err := preset.Lookup(name); err == nil {
			return p.Name + ": "
		}
		return "Your preset: " // a user preset's id

	})
	for _, rule := range ruleNames {
		msg = strings.Replace(msg, ": "+rule, ": ", 1)
	}
	msg = strings.TrimSpace(idInMessage.ReplaceAllString(msg, ""))
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return msg
}

// TrimPlatform removes a platform client's prefix ("tiktok: ") from msg.
func TrimPlatform(msg string) string {
	for _, id := range platforms.IDs() {
		if rest, ok := strings.CutPrefix(msg, id+": "); ok {
			return rest
		}
	}
	return msg
}
