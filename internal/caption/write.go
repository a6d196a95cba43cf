package caption

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// WriteSRT writes cues as a SubRip file.
func WriteSRT(w io.Writer, cues []Cue) error {
	bw := bufio.NewWriter(w)
	for i, c := range cues {
		fmt.Fprintf(bw, "%d\n%s --> %s\n%s\n\n", i+1, srtTime(c.Start), srtTime(c.End), escapeSRT(c.Text))
	}
	return bw.Flush()
}

// WriteVTT writes cues as a WebVTT file.
func WriteVTT(w io.Writer, cues []Cue) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("WEBVTT\n\n")
	for _, c := range cues {
		fmt.Fprintf(bw, "%s --> %s\n%s\n\n", vttTime(c.Start), vttTime(c.End), escapeVTT(c.Text))
	}
	return bw.Flush()
}

// Write writes cues in format f.
func Write(w io.Writer, f Format, cues []Cue) error {
	switch f {
	case SRT:
		return WriteSRT(w, cues)
	case WebVTT:
		return WriteVTT(w, cues)
	}
	return fmt.Errorf("write captions: unknown format %q", f)
}

func splitTime(d time.Duration) (h, m, s, ms int64) {
	if d < 0 {
		d = 0
	}
	t := d.Milliseconds()
	return t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000
}

func srtTime(d time.Duration) string {
	h, m, s, ms := splitTime(d)
	return fmt.Sprintf("%02d:%02d:%02d,%03d", h, m, s, ms)
}

func vttTime(d time.Duration) string {
	h, m, s, ms := splitTime(d)
	return fmt.Sprintf("%02d:%02d:%02d.%03d", h, m, s, ms)
}

// assTime formats H:MM:SS.cc, ASS's centisecond resolution.
func assTime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	cs := int64(math.Round(float64(d) / float64(10*time.Millisecond)))
	return fmt.Sprintf("%d:%02d:%02d.%02d", cs/360_000, cs/6000%60, cs/100%60, cs%100)
}

// Style is how burned-in captions look, in the pixels of the frame they are
// burned into (the ASS script's PlayRes is the frame size, so libass does
// not rescale).
type Style struct {
	// Width and Height are the frame size.
	Width, Height int
	// Font is the font family; fontconfig falls back to other installed
	// fonts for the scripts it lacks (Arabic, CJK, …). Empty: Noto Sans.
	Font     string
	FontSize int
	// Outline and Shadow are in pixels.
	Outline float64
	Shadow  float64
	// MarginL, MarginR and MarginV keep text away from the left, right and
	// bottom edges: the platform's safe zone.
	MarginL, MarginR, MarginV int
}

// DefaultFont is the family used when Style.Font is empty: Noto covers
// every script, with its Arabic, Hebrew and CJK families as fallbacks.
const DefaultFont = "Noto Sans"

// WriteASS writes cues as an Advanced SubStation Alpha script for libass:
// white text with a black outline and soft shadow, bottom centre, wrapped
// to fit between the margins. Right-to-left text gets its base direction
// from its own characters (Encoding -1), so Arabic and Hebrew punctuation
// lands on the correct side.
func WriteASS(w io.Writer, cues []Cue, s Style) error {
	font := s.Font
	if font == "" {
		font = DefaultFont
	}
	// A comma would end the field in the Style line.
	font = strings.NewReplacer(",", " ", "\n", " ", "\r", " ").Replace(font)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "[Script Info]\nScriptType: v4.00+\nPlayResX: %d\nPlayResY: %d\nWrapStyle: 0\nScaledBorderAndShadow: yes\nYCbCr Matrix: None\n\n", s.Width, s.Height)
	bw.WriteString("[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n")
	fmt.Fprintf(bw, "Style: Default,%s,%d,&H00FFFFFF,&H000000FF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,1,%s,%s,2,%d,%d,%d,-1\n\n",
		font, s.FontSize, num(s.Outline), num(s.Shadow), s.MarginL, s.MarginR, s.MarginV)
	bw.WriteString("[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n")
	for _, c := range cues {
		fmt.Fprintf(bw, "Dialogue: 0,%s,%s,Default,,0,0,0,,%s\n", assTime(c.Start), assTime(c.End), assText(c.Text))
	}
	return bw.Flush()
}

func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}
