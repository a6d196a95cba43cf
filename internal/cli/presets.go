package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"outpost/internal/errcode"
	"outpost/internal/preset"
)

func runPresets(_ context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "presets", "list|show ID [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) == 0 {
		pos = []string{"list"}
	}
	switch {
	case pos[0] == "list" && len(pos) == 1:
		ps := preset.Builtins()
		if *asJSON {
			writeJSON(env.Stdout, ps)
			return ExitOK
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPLATFORM\tFRAME\tFORMAT\tMAX DURATION\tMAX SIZE")
		for _, p := range ps {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Platform, frame(p), format(p), orDash(p.Rules.MaxDuration > 0, func() string { return preset.Clock(p.Rules.MaxDuration) }),
				orDash(p.Rules.MaxSizeBytes > 0, func() string { return preset.Bytes(p.Rules.MaxSizeBytes) }))
		}
		_ = tw.Flush()
		return ExitOK
	case pos[0] == "show" && len(pos) == 2:
		p, err := preset.Lookup(pos[1])
		if err != nil {
			return fail(env, errcode.Wrap(errcode.UnknownPreset, err, "presets show"))
		}
		if *asJSON {
			writeJSON(env.Stdout, p)
			return ExitOK
		}
		w := env.Stdout
		fmt.Fprintf(w, "%s — %s\n%s\n\n", p.ID, p.Name, p.Description)
		fmt.Fprintf(w, "frame:     %s, up to %g fps\n", frame(p), p.Video.MaxFPS)
		fmt.Fprintf(w, "format:    %s\n", format(p))
		for _, l := range preset.Levels {
			q := p.Quality[l]
			fmt.Fprintf(w, "quality %-6s %s\n", l+":", quality(q))
		}
		fmt.Fprintln(w, "rules:")
		for _, r := range p.RuleLines() {
			fmt.Fprintf(w, "  - %s\n", r)
		}
		return ExitOK
	}
	fs.Usage()
	return ExitUsage
}

func frame(p preset.Preset) string {
	if p.Video.KeepAspect {
		return fmt.Sprintf("fits %dx%d", p.Video.Width, p.Video.Height)
	}
	return fmt.Sprintf("%dx%d", p.Video.Width, p.Video.Height)
}

func format(p preset.Preset) string {
	s := p.Container + " " + p.Video.Codec
	if p.Video.Profile != "" {
		s += " " + p.Video.Profile
	}
	if p.Audio.Codec != "" {
		s += fmt.Sprintf(" + %s %d Hz", p.Audio.Codec, p.Audio.SampleRate)
	}
	return s
}

func quality(q preset.Quality) string {
	var parts []string
	if q.CRF > 0 {
		parts = append(parts, fmt.Sprintf("CRF %d", q.CRF))
	}
	if q.MaxRateKbps > 0 {
		parts = append(parts, fmt.Sprintf("video ≤ %d kbit/s", q.MaxRateKbps))
	}
	if q.ProResProfile > 0 {
		parts = append(parts, map[int]string{2: "ProRes 422", 3: "ProRes 422 HQ"}[q.ProResProfile])
	}
	if q.AudioKbps > 0 {
		parts = append(parts, fmt.Sprintf("audio %d kbit/s", q.AudioKbps))
	}
	if q.Speed != "" {
		parts = append(parts, "speed "+q.Speed)
	}
	if len(parts) == 0 {
		return "palette per frame"
	}
	return strings.Join(parts, ", ")
}

func orDash(ok bool, f func() string) string {
	if !ok {
		return "-"
	}
	return f()
}
