package caption

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestParseSRT(t *testing.T) {
	t.Parallel()
	in := "\uFEFF1\r\n00:00:01,000 --> 00:00:02,500\r\nHello <font color=\"#fff\">world</font>\r\n<I>second</i> line\r\n\r\n" +
		"2\n00:00:03.2 --> 00:00:04,000 X1:10 X2:20\n{\\an8}Top & <b>bold</b>\n\n\n" +
		"00:01:00,000 --> 01:00:00,000\nno number\n"
	cues, err := ParseSRT([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Cue{
		{ms(1000), ms(2500), "Hello world\n<i>second</i> line"},
		{ms(3200), ms(4000), "Top & <b>bold</b>"},
		{time.Minute, time.Hour, "no number"},
	}
	if !slices.Equal(cues, want) {
		t.Errorf("got %q\nwant %q", cues, want)
	}
}

func TestParseVTT(t *testing.T) {
	t.Parallel()
	in := "WEBVTT - a title\nKind: captions\n\nSTYLE\n::cue { color: red }\n\nNOTE a comment\nover two lines\n\n" +
		"intro\n00:01.000 --> 00:02.500 align:start position:10%\n<v Roger>Hi &amp; welcome</v> &lt;3\n<c.loud><i.x>loud</i></c>\n\n" +
		"01:00:00.000 --> 01:00:01.000\nمرحبا بالعالم\n\n" +
		"00:00.500 --> 00:00.900\n<00:00.600>早い\n"
	cues, err := ParseVTT([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Cue{
		{ms(500), ms(900), "早い"},
		{ms(1000), ms(2500), "Hi & welcome <3\n<i>loud</i>"},
		{time.Hour, time.Hour + time.Second, "مرحبا بالعالم"},
	}
	if !slices.Equal(cues, want) {
		t.Errorf("got %q\nwant %q", cues, want)
	}
	if Detect([]byte(in)) != WebVTT || Detect([]byte("1\n00:00:01,000 --> 00:00:02,000\nx\n")) != SRT {
		t.Error("Detect")
	}
}

func TestParse_invalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		line     int
		msg      string
	}{
		{"srt text as number", "hello\n00:00:01,000 --> 00:00:02,000\nx\n", 1, "expected a cue number"},
		{"srt bad time", "1\n00:00:01 --> 00:00:02,000\nx\n", 2, "bad start time"},
		{"srt bad minutes", "1\n00:61:01,000 --> 00:62:02,000\nx\n", 2, "bad start time"},
		{"srt ends before start", "1\n00:00:05,000 --> 00:00:02,000\nx\n", 2, "before it starts"},
		{"srt missing blank line", "1\n00:00:01,000 --> 00:00:02,000\nx\n2\n00:00:03,000 --> 00:00:04,000\ny\n", 5, "blank line missing"},
		{"srt number without timing", "1\n00:00:01,000 --> 00:00:02,000\nx\n\n2\n", 5, "no timing line"},
		{"srt empty", "\n\n", 3, "no captions"},
		{"srt binary", "1\n00:00:01,000 --> 00:00:02,000\n\x00\x01\n", 3, "NUL"},
		{"srt latin1", "1\n00:00:01,000 --> 00:00:02,000\ncaf\xe9\n", 3, "UTF-8"},
		{"vtt no signature", "WEBVTTX\n\n00:01.000 --> 00:02.000\nx\n", 1, "WEBVTT signature"},
		{"vtt comma", "WEBVTT\n\n00:01,000 --> 00:02.000\nx\n", 3, "bad start time"},
		{"vtt id without timing", "WEBVTT\n\nid\nnot a timing\n", 3, "expected a timing line"},
		{"vtt cue under header", "WEBVTT\n00:01.000 --> 00:02.000\nx\n", 2, "blank line before"},
		{"vtt arrow in text", "WEBVTT\n\n00:01.000 --> 00:02.000\nx\n00:03.000 --> 00:04.000\n", 5, "blank line missing"},
		{"vtt two-digit fraction", "WEBVTT\n\n00:01.00 --> 00:02.000\nx\n", 3, "bad start time"},
		{"vtt no cues", "WEBVTT\n\nNOTE only a note\n", 4, "no captions"},
	} {
		_, err := Parse([]byte(tc.in))
		var se *SyntaxError
		if errcode.Of(err) != errcode.CaptionInvalid || !errors.As(err, &se) {
			t.Errorf("%s: err %v, want caption_invalid with a SyntaxError", tc.name, err)
			continue
		}
		if se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%s: line %d %q, want line %d containing %q", tc.name, se.Line, se.Msg, tc.line, tc.msg)
		}
		if msg := errcode.As(err).Message; !strings.Contains(msg, "line ") || strings.Contains(msg, "\n") {
			t.Errorf("%s: message %q must be one line naming the line", tc.name, msg)
		}
	}
}

func TestWrite_roundTrip(t *testing.T) {
	t.Parallel()
	cues := []Cue{
		{ms(0), ms(1234), "Tom & Jerry <3 -->\n<i>italic</i> and <b>bold</b>"},
		{ms(61_000), ms(3_723_456), "שלום עולם"},
	}
	for _, f := range []Format{SRT, WebVTT} {
		var b bytes.Buffer
		if err := Write(&b, f, cues); err != nil {
			t.Fatal(err)
		}
		got, err := Parse(b.Bytes())
		if err != nil {
			t.Fatalf("%s: %v\n%s", f, err, b.String())
		}
		if !slices.Equal(got, cues) {
			t.Errorf("%s: got %q want %q\n%s", f, got, cues, b.String())
		}
	}
}

func TestWriteASS(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	err := WriteASS(&b, []Cue{{ms(1005), ms(2000), "a {b} \\N c\n<i>d</i>"}}, Style{Width: 1080, Height: 1920, FontSize: 67, Outline: 4.5, MarginL: 54, MarginR: 162, MarginV: 423, Font: "Evil, Font"})
	if err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		"PlayResX: 1080\nPlayResY: 1920\n",
		"Style: Default,Evil  Font,67,&H00FFFFFF,&H000000FF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,1,4.5,0,2,54,162,423,-1\n",
		"Dialogue: 0,0:00:01.01,0:00:02.00,Default,,0,0,0,,a ｛b｝ \\\u2060N c\\N{\\i1}d{\\i0}\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("ASS lacks %q:\n%s", want, s)
		}
	}
}

// FuzzParseSRT and FuzzParseVTT: the parsers never panic, and whatever they
// accept writes back (as SRT and as WebVTT) into a file that parses to the
// same cues.
func FuzzParseSRT(f *testing.F) {
	f.Add([]byte("1\n00:00:01,000 --> 00:00:02,500\nHello <i>world</i>\n\n2\n00:00:03,000 --> 00:00:04,000\n{\\an8}x\n"))
	f.Add([]byte("00:00:01.5 --> 00:00:02,5\n<<x>i>a</i>\n"))
	f.Add([]byte("1\n99999:59:59,999 --> 99999:59:59,999\n&amp; <3\n"))
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip(t, data, ParseSRT) })
}

func FuzzParseVTT(f *testing.F) {
	f.Add([]byte("WEBVTT\n\nNOTE x\n\nid\n00:01.000 --> 00:02.000 align:start\n<v A>Hi &amp; &lt;b&gt;</v>\n"))
	f.Add([]byte("WEBVTT\n\n01:00:00.000 --> 01:00:01.000\n&#x5D0;&#1488;&nbsp;x\n"))
	f.Add([]byte("WEBVTT\r\n\r\nSTYLE\r\n::cue{}\r\n\r\n00:00.000 --> 00:00.001\r\n<c.a><00:00.000>t</c>\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip(t, data, ParseVTT) })
}

func roundTrip(t *testing.T, data []byte, parse func([]byte) ([]Cue, error)) {
	cues, err := parse(data)
	if err != nil {
		var se *SyntaxError
		if errcode.Of(err) != errcode.CaptionInvalid || !errors.As(err, &se) || se.Line < 1 {
			t.Fatalf("error %v is not a caption_invalid SyntaxError with a line", err)
		}
		return
	}
	for _, f := range []Format{SRT, WebVTT} {
		var b bytes.Buffer
		if err := Write(&b, f, cues); err != nil {
			t.Fatal(err)
		}
		again, err := Parse(b.Bytes())
		if err != nil {
			t.Fatalf("written %s does not parse: %v\n%q", f, err, b.String())
		}
		if f == WebVTT && !slices.Equal(again, cues) {
			t.Fatalf("%s round trip:\n got %q\nwant %q", f, again, cues)
		}
		if f == SRT && len(again) != len(cues) {
			t.Fatalf("SRT round trip: %d cues, want %d", len(again), len(cues))
		}
	}
	if err := WriteASS(&bytes.Buffer{}, cues, Style{Width: 640, Height: 360, FontSize: 20}); err != nil {
		t.Fatal(err)
	}
}

func TestTrackLanguage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""}, {"en", "eng"}, {"EN", "eng"}, {"en-US", "eng"}, {"pt-BR", "por"}, {"de", "deu"},
		{"ja", "jpn"}, {"zh-Hant", "zho"}, {" fr ", "fra"},
	} {
		got, err := TrackLanguage(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("TrackLanguage(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"english!", "x", "12"} {
		if got, err := TrackLanguage(bad); errcode.Of(err) != errcode.InvalidOption {
			t.Errorf("TrackLanguage(%q) = %q, %v; want invalid_option", bad, got, err)
		}
	}
}
