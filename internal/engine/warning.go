package engine

import (
	"fmt"
	"slices"
	"strings"

	"outpost/internal/errcode"
	"outpost/internal/media"
)

// Warning is something to know about files that were made all the same.
type Warning struct {
	// Code is a stable code from errcode (source_damaged).
	Code    errcode.Code `json:"code"`
	Message string       `json:"message"`
	Remedy  string       `json:"remedy,omitempty"`
	// Ranges are the stretches of the output, in seconds, it is about.
	Ranges []media.TimeRange `json:"ranges,omitempty"`
}

// renderWarnings are the warnings a render's report gives every file it
// made: source_damaged when the decoders met damaged input.
func renderWarnings(rep media.Report) []Warning {
	if rep.DecodeErrors == 0 {
		return nil
	}
	where := make([]string, 0, len(rep.Damaged))
	for _, r := range rep.Damaged {
		where = append(where, fmt.Sprintf("%.1f–%.1f s", r.Start, r.End))
	}
	msg := fmt.Sprintf("the source is damaged: %d decode error(s)", rep.DecodeErrors)
	if len(where) > 0 {
		msg += " around " + strings.Join(where, ", ")
	}
	msg += "; the render went on, and those parts may show glitches"
	return []Warning{{Code: errcode.SourceDamaged, Message: msg, Remedy: errcode.Remedies[errcode.SourceDamaged], Ranges: rep.Damaged}}
}

// Distinct returns the warnings of ws, each once (by code and message), in
// their first order: what an export says about its files, which share the
// render's warnings.
func Distinct(ws []Warning) []Warning {
	var out []Warning
	for _, w := range ws {
		if !slices.ContainsFunc(out, func(o Warning) bool { return o.Code == w.Code && o.Message == w.Message }) {
			out = append(out, w)
		}
	}
	return out
}

// warn gives each target that was rendered and passed its check the
// render's warnings.
func warn(results []Result, ws []Warning) {
	for i := range results {
		if r := &results[i]; r.Output != nil && r.Error == nil {
			r.Warnings = append(r.Warnings, ws...)
		}
	}
}
