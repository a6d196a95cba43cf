package caption

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseSRT reads a SubRip file: blocks of a cue number, a timing line
// "00:00:01,000 --> 00:00:02,500" and text lines, separated by blank lines.
// It accepts a dot for the comma and a missing cue number, as many tools
// write them; anything else malformed is an error naming the line.
func ParseSRT(data []byte) ([]Cue, error) {
	ls, err := lines(SRT, data)
	if err != nil {
		return nil, err
	}
	var cues []Cue
	i, n := 0, len(ls)
	for {
		for i < n && blank(ls[i]) {
			i++
		}
		if i >= n {
			break
		}
		l := strings.TrimSpace(ls[i])
		if !strings.Contains(l, "-->") {
			if !isDigits(l) {
				return nil, invalid(SRT, i+1, "expected a cue number or a timing line (00:00:01,000 --> 00:00:02,000), got %q", clip(l))
			}
			i++
			if i >= n || blank(ls[i]) {
				return nil, invalid(SRT, i, "cue %s has no timing line", l)
			}
		}
		start, end, err := parseTiming(strings.TrimSpace(ls[i]), srtStamp)
		if err != nil {
			return nil, invalid(SRT, i+1, "%s", err)
		}
		c := Cue{Start: start, End: end}
		if err := checkCue(SRT, i+1, c); err != nil {
			return nil, err
		}
		timing := i + 1
		i++
		var text []string
		for ; i < n && !blank(ls[i]); i++ {
			if isTimingLine(ls[i], srtStamp) {
				return nil, invalid(SRT, i+1, "a timing line inside the text of the cue at line %d: is a blank line missing before it?", timing)
			}
			text = append(text, ls[i])
		}
		c.Text = clean(text, false)
		if c.Text != "" {
			cues = append(cues, c)
		}
	}
	if len(cues) == 0 {
		return nil, noCues(SRT, max(1, n))
	}
	sortCues(cues)
	return cues, nil
}

// ParseVTT reads a WebVTT file: the WEBVTT signature line, an optional
// header, then cues (an optional identifier line, a timing line
// "00:01.000 --> 00:02.500" with optional settings, and text), NOTE, STYLE
// and REGION blocks, separated by blank lines. Cue settings, styles and
// regions are ignored: the renderer places captions itself.
func ParseVTT(data []byte) ([]Cue, error) {
	ls, err := lines(WebVTT, data)
	if err != nil {
		return nil, err
	}
	first := ls[0]
	if !strings.HasPrefix(first, "WEBVTT") || (len(first) > 6 && first[6] != ' ' && first[6] != '\t') {
		return nil, invalid(WebVTT, 1, "missing the WEBVTT signature on the first line")
	}
	i, n := 1, len(ls)
	// Header lines run to the first blank line.
	for i < n && !blank(ls[i]) {
		if strings.Contains(ls[i], "-->") {
			return nil, invalid(WebVTT, i+1, "a cue directly under the WEBVTT line: add a blank line before it")
		}
		i++
	}
	var cues []Cue
	for {
		for i < n && blank(ls[i]) {
			i++
		}
		if i >= n {
			break
		}
		l := ls[i]
		if isBlockKeyword(l, "NOTE") || ((isBlockKeyword(l, "STYLE") || isBlockKeyword(l, "REGION")) && len(cues) == 0) {
			for i < n && !blank(ls[i]) {
				i++
			}
			continue
		}
		if !strings.Contains(l, "-->") {
			// A cue identifier; the timing line follows.
			i++
			if i >= n || blank(ls[i]) || !strings.Contains(ls[i], "-->") {
				return nil, invalid(WebVTT, i, "expected a timing line (00:00:01.000 --> 00:00:02.000) after the cue identifier %q", clip(l))
			}
		}
		start, end, err := parseTiming(strings.TrimSpace(ls[i]), vttStamp)
		if err != nil {
			return nil, invalid(WebVTT, i+1, "%s", err)
		}
		c := Cue{Start: start, End: end}
		if err := checkCue(WebVTT, i+1, c); err != nil {
			return nil, err
		}
		timing := i + 1
		i++
		var text []string
		for ; i < n && !blank(ls[i]); i++ {
			if strings.Contains(ls[i], "-->") {
				return nil, invalid(WebVTT, i+1, "\"-->\" inside the text of the cue at line %d: is a blank line missing before it?", timing)
			}
			text = append(text, ls[i])
		}
		c.Text = clean(text, true)
		if c.Text != "" {
			cues = append(cues, c)
		}
	}
	if len(cues) == 0 {
		return nil, noCues(WebVTT, max(1, n))
	}
	sortCues(cues)
	return cues, nil
}

// sortCues orders cues by start time, keeping the file's order for equal
// starts (several speakers at once).
func sortCues(cues []Cue) {
	slices.SortStableFunc(cues, func(a, b Cue) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
}

func isBlockKeyword(l, kw string) bool {
	return l == kw || strings.HasPrefix(l, kw+" ") || strings.HasPrefix(l, kw+"\t")
}

func isDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// clip shortens a quoted line in an error message.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

type stampFunc func(string) (time.Duration, bool)

func isTimingLine(l string, stamp stampFunc) bool {
	_, _, err := parseTiming(strings.TrimSpace(l), stamp)
	return err == nil
}

type timingError string

func (e timingError) Error() string { return string(e) }

// parseTiming reads "START --> END[ settings]".
func parseTiming(l string, stamp stampFunc) (start, end time.Duration, err error) {
	a, b, ok := strings.Cut(l, "-->")
	if !ok {
		return 0, 0, timingError("expected a timing line (start --> end), got " + strconv.Quote(clip(l)))
	}
	a = strings.TrimSpace(a)
	b = strings.TrimSpace(b)
	if f := strings.Fields(b); len(f) > 0 {
		b = f[0] // cue settings or SRT coordinates follow the end time
	}
	start, ok = stamp(a)
	if !ok {
		return 0, 0, timingError("bad start time " + strconv.Quote(clip(a)))
	}
	end, ok = stamp(b)
	if !ok {
		return 0, 0, timingError("bad end time " + strconv.Quote(clip(b)))
	}
	return start, end, nil
}

// maxHours bounds timestamps far beyond any video, so the arithmetic
// cannot overflow.
const maxHours = 99999

// srtStamp reads H:MM:SS,mmm (a dot is accepted for the comma, and one to
// three fraction digits).
func srtStamp(s string) (time.Duration, bool) {
	i := strings.LastIndexAny(s, ",.")
	if i < 0 {
		return 0, false
	}
	frac := s[i+1:]
	if len(frac) < 1 || len(frac) > 3 || !isDigits(frac) {
		return 0, false
	}
	parts := strings.Split(s[:i], ":")
	if len(parts) != 3 {
		return 0, false
	}
	return hms(parts[0], parts[1], parts[2], frac, false)
}

// vttStamp reads [HH:]MM:SS.mmm as WebVTT defines it (hours of one digit
// are accepted too).
func vttStamp(s string) (time.Duration, bool) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return 0, false
	}
	frac := s[i+1:]
	if len(frac) != 3 || !isDigits(frac) {
		return 0, false
	}
	parts := strings.Split(s[:i], ":")
	switch len(parts) {
	case 2:
		return hms("0", parts[0], parts[1], frac, true)
	case 3:
		return hms(parts[0], parts[1], parts[2], frac, true)
	}
	return 0, false
}

func hms(h, m, sec, frac string, strict bool) (time.Duration, bool) {
	if !isDigits(h) || !isDigits(m) || !isDigits(sec) || len(h) > 5 {
		return 0, false
	}
	if strict && (len(m) != 2 || len(sec) != 2) || len(m) > 2 || len(sec) > 2 {
		return 0, false
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	ss, _ := strconv.Atoi(sec)
	if hh > maxHours || mm > 59 || ss > 59 {
		return 0, false
	}
	ms, _ := strconv.Atoi((frac + "00")[:3])
	d := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second + time.Duration(ms)*time.Millisecond
	return d, true
}
