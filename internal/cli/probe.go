package cli

import (
	"context"
	"fmt"
	"strings"

	"outpost/internal/media"
)

func runProbe(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "probe", "INPUT [--json]")
	asJSON := fs.Bool("json", false, "print the probe as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 {
		fs.Usage()
		return ExitUsage
	}
	info, err := newEngine(env).Prober.Probe(ctx, pos[0])
	if err != nil {
		return fail(env, err)
	}
	if *asJSON {
		writeJSON(env.Stdout, info)
		return ExitOK
	}
	printInfo(env, info)
	return ExitOK
}

func printInfo(env *Env, i *media.Info) {
	w := env.Stdout
	fmt.Fprintf(w, "file:      %s\n", i.Path)
	fmt.Fprintf(w, "format:    %s, %s, %.3f s, %s/s overall", i.FormatName, humanBytes(i.SizeBytes), i.Duration, kbit(i.BitRate))
	if strings.Contains(i.FormatName, "mp4") {
		fmt.Fprintf(w, ", faststart %s", yesNo(i.FastStart))
	}
	fmt.Fprintln(w)
	if v := i.Video; v != nil {
		fmt.Fprintf(w, "video:     %s %s, %s (%d-bit), %dx%d", v.Codec, v.Profile, v.PixFmt, v.BitDepth, v.Width, v.Height)
		if v.Rotation != 0 {
			fmt.Fprintf(w, " (stored %dx%d, rotated %d°)", v.CodedWidth, v.CodedHeight, v.Rotation)
		}
		fmt.Fprintf(w, ", %.3f fps", v.FrameRate)
		if v.VariableFrameRate {
			fmt.Fprint(w, " variable")
		}
		if v.HDR {
			fmt.Fprintf(w, ", HDR (%s)", v.ColorTransfer)
		}
		if v.BitRate > 0 {
			fmt.Fprintf(w, ", %s/s", kbit(v.BitRate))
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "video:     none")
	}
	if a := i.Audio; a != nil {
		fmt.Fprintf(w, "audio:     %s %s, %d Hz, %d ch (%s)", a.Codec, a.Profile, a.SampleRate, a.Channels, a.ChannelLayout)
		if a.BitRate > 0 {
			fmt.Fprintf(w, ", %s/s", kbit(a.BitRate))
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "audio:     none")
	}
}

func kbit(bps int64) string {
	if bps >= 1_000_000 {
		return fmt.Sprintf("%.1f Mbit", float64(bps)/1e6)
	}
	return fmt.Sprintf("%d kbit", bps/1000)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
