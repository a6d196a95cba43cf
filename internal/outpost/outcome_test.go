package outpost

import (
	"testing"

	"outpost/internal/errcode"
)

func TestOutcomeOf(t *testing.T) {
	t.Parallel()
	r := func(ss ...RenditionStatus) []Rendition {
		out := make([]Rendition, len(ss))
		for i, s := range ss {
			out[i] = Rendition{Status: s}
		}
		return out
	}
	p := func(ss ...PublicationState) []Publication {
		out := make([]Publication, len(ss))
		for i, s := range ss {
			out[i] = Publication{State: s}
		}
		return out
	}
	ok, bad := RenditionSucceeded, RenditionFailed
	pub, fail, sched, up := PublicationPublished, PublicationFailed, PublicationScheduled, PublicationUploading
	for _, c := range []struct {
		name      string
		status    ExportStatus
		rs        []Rendition
		ps        []Publication
		state     OutcomeState
		label     string
		summary   string
		postsFail int
	}{
		{"queued", ExportQueued, r(RenditionPending), nil, OutcomeQueued, "Queued", "Queued: waiting for a worker", 0},
		{"rendering", ExportRunning, r(RenditionRunning), p(PublicationPending), OutcomeRendering, "Rendering", "Rendering the files", 0},
		{"download only", ExportSucceeded, r(ok, ok), nil, OutcomeReady, "Done", "Ready", 0},
		{"all posted", ExportSucceeded, r(ok), p(pub, pub), OutcomeReady, "Done", "Ready", 0},
		{"every post failed", ExportSucceeded, r(ok), p(fail, fail, fail), OutcomeAttention, "3 of 3 posts failed", "Ready — 3 of 3 posts failed", 3},
		{"two of three posts failed", ExportSucceeded, r(ok, ok), p(fail, pub, fail), OutcomeAttention, "2 of 3 posts failed", "Ready — 2 of 3 posts failed", 2},
		{"canceled posts do not count", ExportSucceeded, r(ok), p(fail, PublicationCanceled), OutcomeAttention, "1 of 1 post failed", "Ready — 1 of 1 post failed", 1},
		{"still posting", ExportSucceeded, r(ok), p(fail, up, pub), OutcomePosting, "Posting", "Ready — 1 of 3 posts failed, posting to 1 account", 1},
		{"scheduled", ExportSucceeded, r(ok), p(pub, sched), OutcomeReady, "Done", "Ready — 1 post scheduled", 0},
		{"a file failed", ExportPartiallyFailed, r(ok, bad), nil, OutcomeAttention, "1 of 2 files failed", "Ready — 1 of 2 files failed", 0},
		{"files and posts failed", ExportPartiallyFailed, r(ok, bad), p(fail), OutcomeAttention, "Files and posts failed", "Ready — 1 of 2 files and 1 of 1 post failed", 1},
		{"failed", ExportFailed, r(bad, bad), p(fail), OutcomeFailed, "Failed", "Failed: none of the 2 files was made", 1},
		{"canceled", ExportCanceled, r(RenditionCanceled), nil, OutcomeCanceled, "Canceled", "Canceled before it finished", 0},
	} {
		o := OutcomeOf(Export{Status: c.status}, c.rs, c.ps)
		if o.State != c.state || o.Label != c.label || o.Summary != c.summary || o.Posts.Failed != c.postsFail {
			t.Errorf("%s: %+v; want %s %q %q (%d posts failed)", c.name, o, c.state, c.label, c.summary, c.postsFail)
		}
	}
}

func TestActionFor(t *testing.T) {
	t.Parallel()
	for code, want := range map[errcode.Code]PostAction{
		errcode.ConnectionExpired:    PostReconnect,
		errcode.PostInvalid:          PostEdit,
		errcode.CaptionTooLong:       PostEdit,
		errcode.PlatformRejected:     PostRetry,
		errcode.PlatformUnavailable:  PostRetry,
		errcode.PublicationAbandoned: PostRetry,
		errcode.FileNotFound:         "",
	} {
		if got := ActionFor(code); got != want {
			t.Errorf("ActionFor(%s) = %q, want %q", code, got, want)
		}
	}
}
