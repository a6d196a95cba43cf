package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// master is how a generated 1080p30 H.264 + AAC 48 kHz source is encoded.
type master struct {
	// noise is the strength of the moving noise over testsrc2: it makes
	// the picture cost about what real footage costs to encode.
	noise   int
	profile string
	// rate is x264's rate control: a CRF with a cap, or a bitrate.
	rate []string
}

var (
	// compatibleMaster satisfies youtube-1080p (High, capped at 6 Mbit/s):
	// it passes through.
	compatibleMaster = master{noise: 12, profile: "high", rate: []string{"-crf", "23", "-maxrate", "6000k", "-bufsize", "12000k"}}
	// noisyMaster is issue 12's "social six" source: noise at about
	// 12 Mbit/s, over every social cap, so every target is encoded.
	noisyMaster = master{noise: 10, profile: "high", rate: []string{"-b:v", "12000k", "-maxrate", "12000k", "-bufsize", "24000k"}}
	// mainMaster is issue 12's 2-minute master: H.264 Main at 12 Mbit/s.
	mainMaster = master{noise: 10, profile: "main", rate: []string{"-b:v", "12000k", "-maxrate", "12000k", "-bufsize", "24000k"}}
)

// generate writes an n-second 1080p30 MP4 (moov first) with a 440 Hz tone.
func generate(ctx context.Context, ffmpeg, path string, n int, m master) error {
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(n), "-vf", fmt.Sprintf("noise=alls=%d:allf=t", m.noise),
		"-c:v", "libx264", "-preset", "veryfast"}
	args = append(args, m.rate...)
	args = append(args, "-profile:v", m.profile, "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "128k", "-ac", "2", "-movflags", "+faststart", path)
	return runQuiet(ctx, ffmpeg, args...)
}

// generateGraphics writes an n-second 1080p30 master of smooth graphics
// and text, as AI-generated and motion-design videos look: moving
// gradients, a sliding box, a line of text and a running clock.
func generateGraphics(ctx context.Context, ffmpeg, path string, n int) error {
	src := "gradients=s=1920x1080:rate=30:speed=0.02:c0=0x203060:c1=0xd06040:c2=0x40a080:nb_colors=3," +
		"drawbox=x='mod(t*240,1920)-300':y=600:w=300:h=200:color=white@0.8:t=fill," +
		"drawtext=text='Outpost renders every platform':fontsize=96:fontcolor=white:x=(w-text_w)/2:y=200-60*sin(t)," +
		"drawtext=text='%{pts\\:hms}':fontsize=64:fontcolor=yellow:x=80:y=h-150"
	return runQuiet(ctx, ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", src, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(n), "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-profile:v", "high",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-movflags", "+faststart", path)
}

func runQuiet(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = os.Stderr
	return cmd.Run()
}
