package outpost

import (
	"time"

	"outpost/internal/errcode"
)

// StepKind names a step of an export that a node runs.
type StepKind string

// Step kinds.
const (
	StepRender  StepKind = "render"  // ffmpeg made the rendition's file
	StepCheck   StepKind = "check"   // the file was probed and checked against its platform's rules
	StepStore   StepKind = "store"   // the file was put in storage
	StepPublish StepKind = "publish" // one attempt at a publication
	// StepSegment is one segment of a segmented render (Step.Segment
	// says which); recorded once segmented rendering lands.
	StepSegment StepKind = "segment"
)

// StepKinds lists every step kind.
var StepKinds = []StepKind{StepRender, StepCheck, StepStore, StepPublish, StepSegment}

// StepOutcome is how a step ended.
type StepOutcome string

// Step outcomes.
const (
	StepRunning   StepOutcome = "running"
	StepSucceeded StepOutcome = "succeeded"
	// StepWaiting: the attempt ended waiting for its next look (the
	// platform still processing, a rate limit, a quota reset).
	StepWaiting StepOutcome = "waiting"
	StepFailed  StepOutcome = "failed"
	// StepInterrupted: the node stopped working the step (shut down, or
	// killed and another attempt took over).
	StepInterrupted StepOutcome = "interrupted"
)

// StepOutcomes lists every step outcome.
var StepOutcomes = []StepOutcome{StepRunning, StepSucceeded, StepWaiting, StepFailed, StepInterrupted}

// Step is one run of one step of an export on one node: which node (its
// River client id, which begins with its hostname) and which attempt of
// its job, when, and how it ended.
type Step struct {
	Step StepKind `json:"step"`
	// RenditionID and Preset name the rendition of a render, check or
	// store step; PublicationID, Platform and Preset the publication of a
	// publish step.
	RenditionID   string `json:"rendition_id,omitempty"`
	PublicationID string `json:"publication_id,omitempty"`
	Preset        string `json:"preset,omitempty"`
	Platform      string `json:"platform,omitempty"`
	// Segment is the segment (1…n) of a segment step; 0 for the part
	// rendered whole (the audio, stream copies and GIF).
	Segment    int          `json:"segment,omitempty"`
	Node       string       `json:"node"`
	Hostname   string       `json:"hostname,omitempty"`
	Attempt    int          `json:"attempt"`
	Outcome    StepOutcome  `json:"outcome"`
	ErrorCode  errcode.Code `json:"error_code,omitempty"`
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt *time.Time   `json:"finished_at"`
}
