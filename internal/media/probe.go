package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"outpost/internal/errcode"
)

// Prober runs ffprobe. The zero value runs "ffprobe" from PATH.
type Prober struct {
	// FFprobe is the ffprobe binary: a path, or a name looked up on PATH.
	// Empty means "ffprobe".
	FFprobe string
	// Children, when set, records every ffprobe started (see Runner).
	Children *Children
}

func (p *Prober) bin() string {
	if p.FFprobe == "" {
		return "ffprobe"
	}
	return p.FFprobe
}

// vfrWindow is how many seconds of packets, from the start, Probe reads to
// judge the frame rate: a fraction of a second of work, done by the same
// ffprobe run that reads the stream facts.
const vfrWindow = 10

// Probe describes the local file at path.
//
// Messages name the file by its base name only: in the service the path is
// the server's, which users must not see.
//
// Errors carry stable codes: a missing path is SourceNotFound, a 0-byte file
// SourceEmpty, a file ffprobe cannot read SourceUnreadable, an MP4/MOV cut
// short (no moov, or a box running past the end) SourceTruncated, a missing
// ffprobe FFmpegMissing, a canceled ctx Canceled. A file without video is
// not an error: Info.Video is nil and the caller decides (SourceNoVideo).
//
// Besides ffprobe's stream facts, Probe reads the MP4/MOV box headers
// itself (FastStart) and the first video packets' timestamps
// (VariableFrameRate), which ffprobe's summary does not say.
func (p *Prober) Probe(ctx context.Context, path string) (*Info, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &errcode.Error{Code: errcode.SourceNotFound, Message: "no file at " + filepath.Base(path), Err: err}
	case err != nil:
		return nil, &errcode.Error{Code: errcode.SourceUnreadable, Message: "cannot read " + filepath.Base(path), Err: err}
	case st.IsDir():
		return nil, errcode.New(errcode.SourceUnreadable, "%s is a folder, not a file", filepath.Base(path))
	case st.Size() == 0:
		return nil, errcode.New(errcode.SourceEmpty, "%s is empty (0 bytes)", filepath.Base(path))
	}

	// One ffprobe run gives the stream facts and the first packets'
	// timestamps. A file whose packets cannot be listed but whose header
	// parses may still render, so that run failing falls back to the
	// header alone.
	out, err := p.run(ctx, path, "-show_format", "-show_streams",
		"-show_entries", "packet=stream_index,pts_time", "-read_intervals", "%+"+strconv.Itoa(vfrWindow),
		"-print_format", "json")
	packets := err == nil
	if err != nil && errcode.Of(err) != errcode.Canceled {
		out, err = p.run(ctx, path, "-show_format", "-show_streams", "-print_format", "json")
	}
	if err != nil {
		return nil, p.refine(path, st.Size(), err)
	}
	info, err := ParseProbe(out)
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", path, err)
	}
	info.Path = path
	if info.SizeBytes == 0 {
		info.SizeBytes = st.Size()
	}

	if isISOFormat(info.FormatName) {
		l, err := scanFile(path, st.Size())
		if err != nil {
			return nil, &errcode.Error{Code: errcode.SourceUnreadable, Message: "cannot read " + filepath.Base(path), Err: err}
		}
		if l.ISO && l.Truncated {
			// ffprobe reads a faststart file cut short without complaint;
			// rendering it would fail part way or silently end early.
			return nil, errcode.New(errcode.SourceTruncated, "%s is cut short: its last box runs past the end of the file", filepath.Base(path))
		}
		info.FastStart = l.FastStart()
	}

	if info.Video != nil && packets {
		pts := packetTimes(out, info.Video.Index)
		// When the stream runs past the window, the window cut it in
		// decode order (detectVFR then drops the last few times).
		limit := 0
		if info.Duration > vfrWindow {
			limit = len(pts)
		}
		if vfr, ok := detectVFR(pts, limit); ok && vfr {
			info.Video.VariableFrameRate = true
		}
	}
	return info, nil
}

// Check runs `ffprobe -version`: a missing or broken ffprobe is
// FFmpegMissing.
func (p *Prober) Check(ctx context.Context) error {
	bin := p.bin()
	cmd := exec.CommandContext(ctx, bin, "-version")
	cmd.WaitDelay = CancelGrace
	stderr := newLogTail(tailSize)
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	startErr, err := p.Children.run(cmd)
	if startErr != nil {
		return startError(ctx, "ffprobe", bin, startErr)
	}
	if err != nil {
		code := exitCode(err)
		if ctx.Err() != nil {
			return canceled(ctx, "ffprobe", code, stderr, err)
		}
		return &errcode.Error{Code: errcode.FFmpegMissing, Message: fmt.Sprintf("ffprobe -version failed (%s)", bin),
			Err: &ExitError{Program: "ffprobe", ExitCode: code, Stderr: stderr.String(), Err: err}}
	}
	return nil
}

// run runs ffprobe -v error with args and the path, returning stdout.
func (p *Prober) run(ctx context.Context, path string, args ...string) ([]byte, error) {
	bin := p.bin()
	// ffprobe has no -nostdin; exec gives it /dev/null as stdin.
	argv := append([]string{"-v", "error"}, args...)
	// "file:" keeps a path that looks like a protocol ("a:b.mp4") or an
	// option ("-x.mp4") a plain file.
	argv = append(argv, "-i", "file:"+path)
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.WaitDelay = CancelGrace
	var stdout bytes.Buffer
	stderr := newLogTail(tailSize)
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	startErr, err := p.Children.run(cmd)
	if startErr != nil {
		return nil, startError(ctx, "ffprobe", bin, startErr)
	}
	if err != nil {
		code := exitCode(err)
		if ctx.Err() != nil {
			return nil, canceled(ctx, "ffprobe", code, stderr, err)
		}
		e := classify(stderr.String(), code, []string{"file:" + path, path})
		if e.Code == errcode.RenderFailed {
			// Nothing is rendered here: ffprobe failing on a file it was
			// given means it cannot read it.
			e.Code = errcode.SourceUnreadable
		}
		e.Err = &ExitError{Program: "ffprobe", ExitCode: code, Stderr: stderr.String(), Err: err}
		return nil, e
	}
	return stdout.Bytes(), nil
}

// refine sharpens an ffprobe failure with what the file's box headers say:
// ffprobe says "moov atom not found" both for an MP4 cut short and for a text
// file named .mp4, and only "Invalid data" for an MP4 cut inside its index.
func (p *Prober) refine(path string, size int64, err error) error {
	e := errcode.As(err)
	switch e.Code {
	case errcode.SourceTruncated, errcode.SourceUnreadable:
	default:
		return err
	}
	l, serr := scanFile(path, size)
	if serr != nil {
		return err
	}
	// ffprobe names the input "file:<path>" (cleanLine made it the base
	// name); say it once.
	msg := strings.TrimPrefix(e.Message, filepath.Base(path)+": ")
	switch {
	case l.ISO && (l.Truncated || l.Moov < 0):
		e.Code = errcode.SourceTruncated
		msg = "cut short (" + msg + ")"
	case !l.ISO && e.Code == errcode.SourceTruncated:
		e.Code = errcode.SourceUnreadable
		msg = "not a video or audio file (" + msg + ")"
	}
	e.Message = filepath.Base(path) + ": " + msg
	return e
}

func scanFile(path string, size int64) (boxLayout, error) {
	f, err := os.Open(path)
	if err != nil {
		return boxLayout{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	return scanBoxes(f, size)
}

// isISOFormat reports ffprobe format names of the ISO BMFF family
// ("mov,mp4,m4a,3gp,3g2,mj2").
func isISOFormat(name string) bool {
	return strings.Contains(name, "mp4") || strings.Contains(name, "mov")
}

// probeJSON is the part of ffprobe's -print_format json output Probe uses.
// ffprobe prints most numbers as strings; num accepts both.
type probeJSON struct {
	Format  probeFormat   `json:"format"`
	Streams []probeStream `json:"streams"`
}

type probeFormat struct {
	FormatName string `json:"format_name"`
	NbStreams  num    `json:"nb_streams"`
	Duration   num    `json:"duration"`
	Size       num    `json:"size"`
	BitRate    num    `json:"bit_rate"`
}

type probeStream struct {
	Index             num    `json:"index"`
	CodecType         string `json:"codec_type"`
	CodecName         string `json:"codec_name"`
	Profile           string `json:"profile"`
	Width             num    `json:"width"`
	Height            num    `json:"height"`
	SampleAspectRatio string `json:"sample_aspect_ratio"`
	PixFmt            string `json:"pix_fmt"`
	FieldOrder        string `json:"field_order"`
	ColorSpace        string `json:"color_space"`
	ColorTransfer     string `json:"color_transfer"`
	ColorPrimaries    string `json:"color_primaries"`
	RFrameRate        string `json:"r_frame_rate"`
	AvgFrameRate      string `json:"avg_frame_rate"`
	Duration          num    `json:"duration"`
	BitRate           num    `json:"bit_rate"`
	BitsPerRawSample  num    `json:"bits_per_raw_sample"`
	NbFrames          num    `json:"nb_frames"`
	SampleRate        num    `json:"sample_rate"`
	Channels          num    `json:"channels"`
	ChannelLayout     string `json:"channel_layout"`
	Disposition       struct {
		AttachedPic num `json:"attached_pic"`
	} `json:"disposition"`
	Tags struct {
		Rotate num `json:"rotate"`
	} `json:"tags"`
	SideDataList []struct {
		SideDataType string `json:"side_data_type"`
		Rotation     num    `json:"rotation"`
	} `json:"side_data_list"`
}

// num is a JSON number that ffprobe may print as a number, a string, "N/A"
// or null. Anything unparsable reads as 0.
type num string

func (n *num) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("parse number: %w", err)
		}
		*n = num(s)
	case bytes.Equal(b, []byte("null")):
		*n = ""
	default:
		*n = num(b)
	}
	return nil
}

// Float returns the value, or 0 when absent, unparsable or not finite.
func (n num) Float() float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(string(n)), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// Int returns the value as an integer (decimals truncated), or 0 when absent,
// unparsable or out of range.
func (n num) Int() int64 {
	s := strings.TrimSpace(string(n))
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	f := n.Float()
	if math.Abs(f) >= 1<<62 {
		return 0
	}
	return int64(f)
}

// dim is a pixel count or similar small int: values beyond 1<<24 (or
// negative) are nonsense and read as 0.
func (n num) dim() int {
	i := n.Int()
	if i < 0 || i > 1<<24 {
		return 0
	}
	return int(i)
}

// ParseProbe turns ffprobe's "-show_format -show_streams -print_format json"
// output into an Info. Video is the first video stream that is not an
// attached picture (cover art); Audio the first audio stream; either is nil
// when absent. Width and Height are after the display rotation.
// VariableFrameRate is judged from the header alone here (r_frame_rate far
// from avg_frame_rate); Probe adds the packet timestamps. FastStart and Path
// are left for Probe, which has the file.
func ParseProbe(data []byte) (*Info, error) {
	var pj probeJSON
	if err := json.Unmarshal(data, &pj); err != nil {
		return nil, fmt.Errorf("parse ffprobe json: %w", err)
	}
	info := &Info{
		FormatName:  pj.Format.FormatName,
		Duration:    max(pj.Format.Duration.Float(), 0),
		SizeBytes:   max(pj.Format.Size.Int(), 0),
		BitRate:     max(pj.Format.BitRate.Int(), 0),
		StreamCount: len(pj.Streams),
	}
	if n := pj.Format.NbStreams.dim(); n > info.StreamCount {
		info.StreamCount = n
	}
	for i := range pj.Streams {
		s := &pj.Streams[i]
		switch s.CodecType {
		case "video":
			if info.Video == nil && s.Disposition.AttachedPic.Int() == 0 {
				info.Video = parseVideo(s)
			}
		case "audio":
			if info.Audio == nil {
				info.Audio = &Audio{
					Index:         s.Index.dim(),
					Codec:         s.CodecName,
					Profile:       known(s.Profile),
					SampleRate:    s.SampleRate.dim(),
					Channels:      s.Channels.dim(),
					ChannelLayout: known(s.ChannelLayout),
					BitRate:       max(s.BitRate.Int(), 0),
				}
			}
		}
	}
	if info.Duration == 0 && info.Video != nil {
		// Some raw streams have no container duration.
		for i := range pj.Streams {
			if pj.Streams[i].Index.dim() == info.Video.Index {
				info.Duration = max(pj.Streams[i].Duration.Float(), 0)
			}
		}
	}
	return info, nil
}

func parseVideo(s *probeStream) *Video {
	v := &Video{
		Index:             s.Index.dim(),
		Codec:             s.CodecName,
		Profile:           known(s.Profile),
		PixFmt:            known(s.PixFmt),
		CodedWidth:        s.Width.dim(),
		CodedHeight:       s.Height.dim(),
		SampleAspectRatio: sar(s.SampleAspectRatio),
		BitRate:           max(s.BitRate.Int(), 0),
		FrameCount:        max(s.NbFrames.Int(), 0),
		ColorSpace:        known(s.ColorSpace),
		ColorTransfer:     known(s.ColorTransfer),
		ColorPrimaries:    known(s.ColorPrimaries),
		FieldOrder:        known(s.FieldOrder),
	}
	v.BitDepth = bitDepth(s.BitsPerRawSample.dim(), v.PixFmt)
	v.Rotation = rotation(s)
	v.Width, v.Height = v.CodedWidth, v.CodedHeight
	if v.Rotation == 90 || v.Rotation == 270 {
		v.Width, v.Height = v.Height, v.Width
	}
	avg, r := ParseRate(s.AvgFrameRate), ParseRate(s.RFrameRate)
	v.FrameRate = avg
	if v.FrameRate == 0 {
		v.FrameRate = r
	}
	v.VariableFrameRate = ratesDisagree(r, avg, v.FieldOrder)
	v.HDR = v.ColorTransfer == "smpte2084" || v.ColorTransfer == "arib-std-b67"
	return v
}

// known maps ffprobe's "unknown" to "", so unset fields stay out of JSON.
func known(s string) string {
	if s == "unknown" {
		return ""
	}
	return s
}

// sar drops ffprobe's "0:1" (unknown pixel shape).
func sar(s string) string {
	if s == "0:1" || s == "N/A" {
		return ""
	}
	return s
}

// rotation is the clockwise display rotation, normalised to 0, 90, 180 or
// 270. The display matrix's "rotation" (ffmpeg 5+) is counter-clockwise, so
// a phone's portrait video reads -90 and means 90 clockwise; the legacy
// "rotate" tag (ffmpeg 4) was already clockwise.
func rotation(s *probeStream) int {
	for _, sd := range s.SideDataList {
		if sd.SideDataType == "Display Matrix" {
			return quarterTurns(-sd.Rotation.Float())
		}
	}
	return quarterTurns(s.Tags.Rotate.Float())
}

func quarterTurns(deg float64) int {
	if math.IsNaN(deg) || math.IsInf(deg, 0) {
		return 0
	}
	q := int64(math.Round(math.Mod(deg, 360) / 90))
	return int(((q%4)+4)%4) * 90
}

// bitDepth is bits_per_raw_sample when ffprobe gives a plausible one, else
// read from the pixel format's name (yuv420p10le, p010le, gray12le, …).
func bitDepth(raw int, pixFmt string) int {
	if raw >= 8 && raw <= 16 {
		return raw
	}
	f := strings.TrimSuffix(strings.TrimSuffix(pixFmt, "le"), "be")
	for _, d := range []struct {
		suffixes []string
		depth    int
	}{
		{[]string{"p9"}, 9},
		{[]string{"p10", "p010", "gray10", "x2rgb10", "x2bgr10", "y210", "v30x", "xv30"}, 10},
		{[]string{"p12", "p012", "gray12", "y212", "xv36"}, 12},
		{[]string{"p14", "gray14"}, 14},
		{[]string{"p16", "p016", "gray16", "rgb48", "bgr48", "rgba64", "bgra64", "ya16", "y216"}, 16},
	} {
		for _, s := range d.suffixes {
			if strings.HasSuffix(f, s) {
				return d.depth
			}
		}
	}
	return 8
}

// ParseRate parses ffprobe's "30000/1001", "25/1" or "25". "0/0", garbage
// and non-positive rates give 0.
func ParseRate(s string) float64 {
	n, d, ok := strings.Cut(s, "/")
	num, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return 0
	}
	den := 1.0
	if ok {
		if den, err = strconv.ParseFloat(d, 64); err != nil || den == 0 {
			return 0
		}
	}
	r := num / den
	if math.IsNaN(r) || math.IsInf(r, 0) || r <= 0 {
		return 0
	}
	return r
}

// ratesDisagree judges VFR from the stream header: r_frame_rate is the
// base rate that all timestamps fit, avg_frame_rate frames over duration;
// for a constant rate they agree. Interlaced streams may give the field rate
// (twice the frame rate) as r_frame_rate, which is not VFR.
func ratesDisagree(r, avg float64, fieldOrder string) bool {
	if r <= 0 || avg <= 0 {
		return false
	}
	if fieldOrder != "" && fieldOrder != "progressive" && math.Abs(r/avg-2) < 0.01 {
		return false
	}
	return math.Abs(r-avg)/max(r, avg) > 0.10
}
