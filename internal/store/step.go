package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// StepKind and StepOutcome are the contract's (outpost.Step).
type (
	StepKind    = outpost.StepKind
	StepOutcome = outpost.StepOutcome
)

// Step is one run of one step of an export on one node (see outpost.Step).
type Step struct {
	ID            string
	ExportID      string
	RenditionID   string
	PublicationID string
	Kind          StepKind
	Segment       int
	Node          string
	Hostname      string
	JobID         int64
	Attempt       int
	Outcome       StepOutcome
	ErrorCode     errcode.Code
	StartedAt     time.Time
	FinishedAt    *time.Time
}

const stepColumns = `id, export_id, rendition_id, publication_id, kind, segment, node, hostname, job_id, attempt,
	outcome, error_code, started_at, finished_at`

func scanStep(sc rowScanner) (Step, error) {
	var s Step
	err := sc.Scan(&s.ID, &s.ExportID, &s.RenditionID, &s.PublicationID, &s.Kind, &s.Segment, &s.Node, &s.Hostname,
		&s.JobID, &s.Attempt, &s.Outcome, &s.ErrorCode, scanTime(&s.StartedAt), scanNullTime(&s.FinishedAt))
	return s, err
}

// StartStep records that s.Node starts a step (running, now), and returns
// it with its id. The same step of the same subject (kind, segment,
// rendition or publication) still running from an earlier attempt is
// marked interrupted: one attempt works a subject at a time, so that one
// was left behind by a node that stopped.
func (q *Queries) StartStep(ctx context.Context, s Step) (Step, error) {
	s.ID, s.Outcome, s.StartedAt, s.FinishedAt = NewID(PrefixStep), outpost.StepRunning, now(s.StartedAt), nil
	if _, err := q.exec(ctx, `UPDATE export_steps SET outcome = $1, finished_at = $2
		WHERE export_id = $3 AND kind = $4 AND segment = $5 AND rendition_id = $6 AND publication_id = $7
		AND outcome = $8`, outpost.StepInterrupted, s.StartedAt, s.ExportID, s.Kind, s.Segment, s.RenditionID,
		s.PublicationID, outpost.StepRunning); err != nil {
		return Step{}, fmt.Errorf("start %s step: %w", s.Kind, err)
	}
	if _, err := q.exec(ctx, `INSERT INTO export_steps (`+stepColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		s.ID, s.ExportID, s.RenditionID, s.PublicationID, s.Kind, s.Segment, s.Node, s.Hostname, s.JobID, s.Attempt,
		s.Outcome, s.ErrorCode, s.StartedAt, nil); err != nil {
		return Step{}, fmt.Errorf("start %s step: %w", s.Kind, err)
	}
	return s, nil
}

// FinishStep records how a running step ended. A step already ended
// (marked interrupted meanwhile) is left as it is.
func (q *Queries) FinishStep(ctx context.Context, id string, outcome StepOutcome, code errcode.Code) error {
	if _, err := q.exec(ctx, `UPDATE export_steps SET outcome = $2, error_code = $3, finished_at = $4
		WHERE id = $1 AND outcome = $5`, id, outcome, code, now(time.Time{}), outpost.StepRunning); err != nil {
		return fmt.Errorf("finish step %s: %w", id, err)
	}
	return nil
}

// InterruptSteps marks interrupted the steps still running of one of the
// export's publications, or with publicationID "" of its renditions
// (render, check, store, segment): nothing works them any more (the
// publication, or the render, was failed for good).
func (q *Queries) InterruptSteps(ctx context.Context, exportID, publicationID string) error {
	if _, err := q.exec(ctx, `UPDATE export_steps SET outcome = $1, finished_at = $2
		WHERE export_id = $3 AND publication_id = $4 AND outcome = $5`,
		outpost.StepInterrupted, now(time.Time{}), exportID, publicationID, outpost.StepRunning); err != nil {
		return fmt.Errorf("interrupt steps of %s: %w", exportID, err)
	}
	return nil
}

// ListSteps returns the export's steps in the order they started.
func (q *Queries) ListSteps(ctx context.Context, exportID string) ([]Step, error) {
	rows, err := q.query(ctx, `SELECT `+stepColumns+` FROM export_steps WHERE export_id = $1
		ORDER BY started_at, id`, exportID)
	if err != nil {
		return nil, fmt.Errorf("list steps: %w", err)
	}
	ss, err := collect(rows, scanStep)
	if err != nil {
		return nil, fmt.Errorf("list steps: %w", err)
	}
	return ss, nil
}

// ListStepNodes returns, for each of the exports, the nodes that ran its
// steps, in the order each first started one.
func (q *Queries) ListStepNodes(ctx context.Context, exportIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(exportIDs) == 0 {
		return out, nil
	}
	var p params
	in := make([]string, len(exportIDs))
	for i, id := range exportIDs {
		in[i] = p.add(id)
	}
	rows, err := q.query(ctx, `SELECT export_id, node, MIN(started_at) AS first FROM export_steps
		WHERE export_id IN (`+strings.Join(in, ", ")+`) GROUP BY export_id, node ORDER BY export_id, first, node`, p.args...)
	if err != nil {
		return nil, fmt.Errorf("list step nodes: %w", err)
	}
	type row struct{ export, node string }
	rs, err := collect(rows, func(sc rowScanner) (row, error) {
		var r row
		var first any
		err := sc.Scan(&r.export, &r.node, &first)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list step nodes: %w", err)
	}
	for _, r := range rs {
		out[r.export] = append(out[r.export], r.node)
	}
	return out, nil
}
