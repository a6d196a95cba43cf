// Package caption reads SRT and WebVTT caption files into cues and writes
// cues as SRT, WebVTT and ASS (the input of libass, for burned-in
// captions). It is pure: no I/O beyond the readers and writers it is given.
//
// Cue text is normalised to plain text with lines separated by "\n" and the
// only markup common to all three formats: <b>, <i> and <u>. Other tags
// (<font>, WebVTT classes, voices, ruby, timestamps) are dropped and
// character references (&amp;, &lt;, …) are decoded, so a literal "<" in
// the text is only ever markup when it opens one of those three tags.
package caption

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"outpost/internal/errcode"
)

// Cue is one caption: text shown from Start to End.
type Cue struct {
	Start time.Duration
	End   time.Duration
	// Text is the caption, lines separated by "\n", with <b>, <i> and <u>
	// as its only markup.
	Text string
}

// Format is a caption file format.
type Format string

// The formats Parse reads.
const (
	SRT    Format = "srt"
	WebVTT Format = "vtt"
)

// MaxSize bounds a caption file: a feature film's captions are well under
// a megabyte.
const MaxSize = 8 << 20

// SyntaxError is a malformed caption file: what is wrong, and where.
type SyntaxError struct {
	Format Format
	Line   int // 1-based
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s line %d: %s", strings.ToUpper(string(e.Format)), e.Line, e.Msg)
}

// invalid wraps a SyntaxError in the user-facing caption_invalid error.
func invalid(f Format, line int, format string, args ...any) error {
	se := &SyntaxError{Format: f, Line: line, Msg: fmt.Sprintf(format, args...)}
	return &errcode.Error{Code: errcode.CaptionInvalid, Message: se.Error(), Err: se}
}

// Detect names the format of data: WebVTT when it starts with the WEBVTT
// signature, SRT otherwise.
func Detect(data []byte) Format {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if bytes.HasPrefix(data, []byte("WEBVTT")) {
		return WebVTT
	}
	return SRT
}

// Parse reads an SRT or WebVTT file (see Detect). Errors are
// errcode.CaptionInvalid wrapping a *SyntaxError.
func Parse(data []byte) ([]Cue, error) {
	if Detect(data) == WebVTT {
		return ParseVTT(data)
	}
	return ParseSRT(data)
}

// lines splits data into lines after checking it is text: UTF-8 (a BOM is
// dropped), no NUL bytes, within MaxSize. CRLF and CR line ends are
// accepted.
func lines(f Format, data []byte) ([]string, error) {
	if len(data) > MaxSize {
		return nil, invalid(f, 1, "file is larger than %d MiB; is it really captions?", MaxSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	s := string(data)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		if !utf8.ValidString(l) {
			return nil, invalid(f, i+1, "text is not UTF-8; save the file as UTF-8")
		}
		if strings.ContainsRune(l, 0) {
			return nil, invalid(f, i+1, "NUL byte: this is not a text file")
		}
	}
	return ls, nil
}

func blank(l string) bool { return strings.TrimSpace(l) == "" }

// checkCue validates a parsed cue's times.
func checkCue(f Format, line int, c Cue) error {
	if c.End < c.Start {
		return invalid(f, line, "cue ends (%s) before it starts (%s)", fmtDur(c.End), fmtDur(c.Start))
	}
	return nil
}

func fmtDur(d time.Duration) string {
	return srtTime(d)
}

// ErrNoCues is wrapped by the error for a file that parses but holds no cue.
var ErrNoCues = errors.New("no cues")

func noCues(f Format, line int) error {
	se := &SyntaxError{Format: f, Line: line, Msg: "no captions in the file"}
	return &errcode.Error{Code: errcode.CaptionInvalid, Message: se.Error(), Err: errors.Join(se, ErrNoCues)}
}

// TrackLanguage converts a BCP 47 tag ("en", "pt-BR") to the ISO 639-2
// code ("eng", "por") that MP4, MOV and WebM subtitle tracks carry; "" stays
// "" (undetermined). A tag that is not BCP 47 is InvalidOption.
func TrackLanguage(tag string) (string, error) {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return "", nil
	}
	t, err := language.Parse(tag)
	if err != nil {
		return "", errcode.New(errcode.InvalidOption, "captions language %q: give a BCP 47 tag such as en or pt-BR", tag)
	}
	base, conf := t.Base()
	if conf == language.No {
		return "", errcode.New(errcode.InvalidOption, "captions language %q names no language", tag)
	}
	return base.ISO3(), nil
}
