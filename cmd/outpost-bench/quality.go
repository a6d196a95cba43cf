package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"outpost/internal/preset"
	"outpost/internal/render"
)

// x264Speeds are the x264 presets measured, fastest first.
var x264Speeds = []string{"veryfast", "faster", "fast", "medium"}

// ssimTolerance: a level takes the fastest preset whose SSIM is within this
// of the next slower preset's, on every kind of content.
const ssimTolerance = 0.005

// qualityPreset is the preset whose levels are measured: a 1920×1080
// H.264 target, so the reference is the source at its own size.
const qualityPreset = "youtube-1080p"

// content is a kind of picture the levels are measured on.
type content struct {
	name string
	// make writes the source master of n seconds at path.
	make func(ctx context.Context, ffmpeg, path string, n int) error
}

var contents = []content{
	{"noisy synthetic", func(ctx context.Context, ffmpeg, path string, n int) error {
		return generate(ctx, ffmpeg, path, n, noisyMaster)
	}},
	{"graphics and text", generateGraphics},
}

// measurement is one encode of one content at one level and speed.
type measurement struct {
	level   preset.Level
	content string
	speed   string
	cpu     time.Duration // user + system time of the encode
	wall    time.Duration
	ssim    float64
	psnr    float64
	bytes   int64
}

// runQuality measures time and quality of each x264 speed at each level's
// CRF and caps (those of qualityPreset), on each content, and prints the
// table and the speed the rule picks per level.
func runQuality(ctx context.Context, c config) error {
	p, err := preset.Lookup(qualityPreset)
	if err != nil {
		return err
	}
	var ms []measurement
	for _, ct := range contents {
		src := filepath.Join(c.work, "quality-"+strings.ReplaceAll(ct.name, " ", "-")+".mp4")
		log.Printf("generating a %d s 1080p30 %s master", c.qualitySeconds, ct.name)
		if err := ct.make(ctx, c.ffmpeg, src, c.qualitySeconds); err != nil {
			return err
		}
		for _, level := range preset.Levels {
			for _, speed := range x264Speeds {
				t := render.Target{Preset: p, Quality: level}
				enc := render.TargetEncoding(&t, 30, 0)
				enc.Speed = speed
				m, err := measure(ctx, c, src, enc)
				if err != nil {
					return fmt.Errorf("%s, %s, %s: %w", ct.name, level, speed, err)
				}
				m.level, m.content, m.speed = level, ct.name, speed
				log.Printf("%-17s %-5s %-8s cpu %6.2f s  wall %6.2f s  SSIM %.4f  PSNR %.2f dB  %d kB",
					ct.name, level, speed, m.cpu.Seconds(), m.wall.Seconds(), m.ssim, m.psnr, m.bytes/1000)
				ms = append(ms, m)
			}
		}
	}
	printQuality(p, ms, c.qualitySeconds)
	return nil
}

// measure encodes src at w×h with enc's settings (video only) and compares
// the result with the source scaled to the same size.
func measure(ctx context.Context, c config, src string, enc render.Encoding) (measurement, error) {
	const w, h = 1920, 1080
	frame := fmt.Sprintf("scale=%d:%d,setsar=1,format=yuv420p", w, h)
	out := filepath.Join(c.work, "quality-out.mp4")
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", src, "-an", "-vf", frame}
	args = append(args, enc.Args()...)
	args = append(args, "-f", "mp4", out)
	cmd := exec.CommandContext(ctx, c.ffmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return measurement{}, fmt.Errorf("encode: %w: %s", err, stderr.String())
	}
	m := measurement{wall: time.Since(start), cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	st, err := os.Stat(out)
	if err != nil {
		return m, err
	}
	m.bytes = st.Size()

	graph := "[1:v]" + frame + ",split=2[r1][r2];[0:v]split=2[d1][d2];[d1][r1]ssim;[d2][r2]psnr"
	cmd = exec.CommandContext(ctx, c.ffmpeg, "-hide_banner", "-nostdin", "-i", out, "-i", src, "-lavfi", graph, "-f", "null", "-")
	stderr.Reset()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return m, fmt.Errorf("compare: %w: %s", err, stderr.String())
	}
	if m.ssim, err = lastFloat(stderr.String(), ssimAll); err != nil {
		return m, err
	}
	if m.psnr, err = lastFloat(stderr.String(), psnrAverage); err != nil {
		return m, err
	}
	return m, nil
}

var (
	// [Parsed_ssim_4 @ 0x…] SSIM Y:0.95 (13.1) U:… All:0.963541 (14.382853)
	ssimAll = regexp.MustCompile(`SSIM .*All:([0-9.]+)`)
	// [Parsed_psnr_5 @ 0x…] PSNR y:38.1 u:… average:39.64 min:… max:…
	psnrAverage = regexp.MustCompile(`PSNR .*average:([0-9.]+|inf)`)
)

func lastFloat(s string, re *regexp.Regexp) (float64, error) {
	all := re.FindAllStringSubmatch(s, -1)
	if len(all) == 0 {
		return 0, fmt.Errorf("no %s in ffmpeg's output:\n%s", re, s)
	}
	v := all[len(all)-1][1]
	if v == "inf" {
		return 100, nil
	}
	return strconv.ParseFloat(v, 64)
}

// chooseSpeed applies the rule to one level's measurements (any content
// order): on each content, the fastest speed within ssimTolerance of the
// next slower one; over the contents, the slowest of those choices.
func chooseSpeed(ms []measurement) string {
	byContent := map[string]map[string]float64{}
	for _, m := range ms {
		if byContent[m.content] == nil {
			byContent[m.content] = map[string]float64{}
		}
		byContent[m.content][m.speed] = m.ssim
	}
	pick := 0
	for _, ssim := range byContent {
		k := len(x264Speeds) - 1
		for i := 0; i+1 < len(x264Speeds); i++ {
			if ssim[x264Speeds[i+1]]-ssim[x264Speeds[i]] <= ssimTolerance {
				k = i
				break
			}
		}
		pick = max(pick, k)
	}
	return x264Speeds[pick]
}

func printQuality(p preset.Preset, ms []measurement, seconds int) {
	fmt.Printf("\nx264 presets per quality level — %s settings (CRF, VBV cap, GOP), %d s 1080p30 masters, SSIM/PSNR vs the source at 1920×1080\n\n",
		p.ID, seconds)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 1, ' ', 0)
	fmt.Fprintln(tw, "| level (CRF, cap)\t| content\t| preset\t| CPU s\t| wall s\t| SSIM\t| PSNR dB\t| kbit/s\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---:\t|---:\t|---:\t|---:\t|---:\t|")
	for _, m := range ms {
		q := p.Level(m.level)
		fmt.Fprintf(tw, "| %s (%d, %d k)\t| %s\t| %s\t| %.2f\t| %.2f\t| %.4f\t| %.2f\t| %d\t|\n", m.level, q.CRF, q.MaxRateKbps,
			m.content, m.speed, m.cpu.Seconds(), m.wall.Seconds(), m.ssim, m.psnr, m.bytes*8/1000/int64(seconds))
	}
	tw.Flush()
	fmt.Printf("\nRule: the fastest preset within %.3f SSIM of the next slower one, on both contents.\n", ssimTolerance)
	for _, level := range preset.Levels {
		of := slices.DeleteFunc(slices.Clone(ms), func(m measurement) bool { return m.level != level })
		fmt.Printf("  %-5s → %s (now %s)\n", level, chooseSpeed(of), p.Level(level).Speed)
	}
}
