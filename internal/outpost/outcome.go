package outpost

import (
	"fmt"
	"strings"

	"outpost/internal/errcode"
)

// OutcomeState is an export's overall state as a person reads it: its
// render and its posts together. An export whose files are all ready but
// whose posts failed is not "done": people share to be seen.
type OutcomeState string

// Outcome states.
const (
	OutcomeQueued    OutcomeState = "queued"
	OutcomeRendering OutcomeState = "rendering"
	// OutcomePosting: the files are ready; posts due now are going out.
	OutcomePosting OutcomeState = "posting"
	// OutcomeReady: every file was made and every post went out (or is
	// scheduled).
	OutcomeReady OutcomeState = "ready"
	// OutcomeAttention: the files that could be made are ready, but some
	// files or posts failed.
	OutcomeAttention OutcomeState = "attention"
	// OutcomeFailed: no file was made.
	OutcomeFailed   OutcomeState = "failed"
	OutcomeCanceled OutcomeState = "canceled"
)

// OutcomeStates lists every outcome state.
var OutcomeStates = []OutcomeState{OutcomeQueued, OutcomeRendering, OutcomePosting, OutcomeReady,
	OutcomeAttention, OutcomeFailed, OutcomeCanceled}

// Outcome is an export's overall state with the counts behind it. The API
// answers it with every export (outcome) and the web UI shows its Label
// as the export's chip and its Summary as the banner, so that both say the
// same thing ("Ready — 2 of 3 posts failed").
type Outcome struct {
	State OutcomeState `json:"state"`
	// Label is short, for a chip: "Done", "2 of 3 posts failed".
	Label string `json:"label"`
	// Summary is a sentence, for a banner: "Ready — 2 of 3 posts failed".
	Summary string `json:"summary"`
	Files   Tally  `json:"files"`
	// Posts leaves out canceled posts: nobody waits for them.
	Posts Tally `json:"posts"`
}

// Tally counts an export's files or posts by how they ended.
type Tally struct {
	Total int `json:"total"`
	// Done: files ready, posts published.
	Done   int `json:"done"`
	Failed int `json:"failed"`
	// Scheduled posts wait for their time.
	Scheduled int `json:"scheduled"`
	// Open are still on their way (waiting, rendering, uploading).
	Open int `json:"open"`
}

// OutcomeOf is the overall state of export e with its renditions and
// publications.
func OutcomeOf(e Export, rs []Rendition, ps []Publication) Outcome {
	var o Outcome
	for _, r := range rs {
		o.Files.Total++
		switch r.Status {
		case RenditionSucceeded:
			o.Files.Done++
		case RenditionFailed:
			o.Files.Failed++
		case RenditionPending, RenditionRunning:
			o.Files.Open++
		}
	}
	for _, p := range ps {
		if p.State == PublicationCanceled {
			continue
		}
		o.Posts.Total++
		switch {
		case p.State == PublicationPublished:
			o.Posts.Done++
		case p.State == PublicationFailed:
			o.Posts.Failed++
		case p.State == PublicationScheduled:
			o.Posts.Scheduled++
		default:
			o.Posts.Open++
		}
	}
	switch e.Status {
	case ExportQueued:
		o.State, o.Label, o.Summary = OutcomeQueued, "Queued", "Queued: waiting for a worker"
		return o
	case ExportRunning:
		o.State, o.Label, o.Summary = OutcomeRendering, "Rendering", "Rendering the files"
		return o
	case ExportCanceled:
		o.State, o.Label, o.Summary = OutcomeCanceled, "Canceled", "Canceled before it finished"
		return o
	case ExportFailed:
		o.State, o.Label, o.Summary = OutcomeFailed, "Failed", "Failed: no file was made"
		if o.Files.Total > 0 {
			o.Summary = fmt.Sprintf("Failed: none of the %s was made", plural(o.Files.Total, "file", "files"))
		}
		return o
	}
	// The files that could be made are ready: the posts decide.
	var failed []string
	if o.Files.Failed > 0 {
		failed = append(failed, fmt.Sprintf("%d of %d %s", o.Files.Failed, o.Files.Total, word(o.Files.Total, "file", "files")))
	}
	if o.Posts.Failed > 0 {
		failed = append(failed, fmt.Sprintf("%d of %d %s", o.Posts.Failed, o.Posts.Total, word(o.Posts.Total, "post", "posts")))
	}
	var parts []string
	if len(failed) > 0 {
		parts = append(parts, strings.Join(failed, " and ")+" failed")
	}
	if o.Posts.Open > 0 {
		parts = append(parts, "posting to "+plural(o.Posts.Open, "account", "accounts"))
	}
	if o.Posts.Scheduled > 0 {
		parts = append(parts, plural(o.Posts.Scheduled, "post", "posts")+" scheduled")
	}
	o.Summary = "Ready"
	if len(parts) > 0 {
		o.Summary += " — " + strings.Join(parts, ", ")
	}
	switch {
	case o.Posts.Open > 0:
		o.State, o.Label = OutcomePosting, "Posting"
	case len(failed) > 0:
		o.State = OutcomeAttention
		o.Label = strings.Join(failed, " and ") + " failed"
		if len(failed) > 1 {
			o.Label = "Files and posts failed"
		}
	default:
		o.State, o.Label = OutcomeReady, "Done"
	}
	return o
}

// word is singular for n = 1.
func word(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// plural is "1 post", "3 posts".
func plural(n int, one, many string) string { return fmt.Sprintf("%d %s", n, word(n, one, many)) }

// PostAction is what a person can do about a failed post.
type PostAction string

// Post actions.
const (
	// PostRetry sends it again as it was (the platform failed, or refused
	// this upload).
	PostRetry PostAction = "retry"
	// PostReconnect: the account must be connected again; the post then
	// goes out by itself.
	PostReconnect PostAction = "reconnect"
	// PostEdit: the text or a setting of the post was refused; change it
	// and send it again.
	PostEdit PostAction = "edit"
)

// ActionFor is the action a post that failed with code offers; "" when
// none helps (its file is gone: render the export again).
func ActionFor(code errcode.Code) PostAction {
	switch code {
	case errcode.ConnectionExpired, errcode.ConnectionUnreadable:
		return PostReconnect
	case errcode.PostInvalid, errcode.CaptionTooLong, errcode.PlatformRule:
		return PostEdit
	case errcode.FileNotFound, errcode.Canceled:
		return ""
	}
	return PostRetry
}
