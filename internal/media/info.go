// Package media is the process boundary to ffmpeg and ffprobe: probing a file
// into a typed Info, running an ffmpeg argv with progress, and classifying
// ffmpeg failures into stable error codes. It depends on the standard library
// only.
package media

// Info is what ffprobe tells about one media file, normalised so that callers
// never look at ffprobe's JSON.
type Info struct {
	Path        string  `json:"path"`
	FormatName  string  `json:"format_name"` // ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	Duration    float64 `json:"duration_seconds"`
	SizeBytes   int64   `json:"size_bytes"`
	BitRate     int64   `json:"bit_rate"`  // overall, bits per second; 0 when unknown
	FastStart   bool    `json:"faststart"` // MP4/MOV: moov atom before mdat
	Video       *Video  `json:"video,omitempty"`
	Audio       *Audio  `json:"audio,omitempty"`
	StreamCount int     `json:"stream_count"`
}

// Video describes the first video stream (attached pictures such as cover
// art are not video streams).
type Video struct {
	Index   int    `json:"index"`
	Codec   string `json:"codec"`   // ffprobe codec_name: h264, hevc, vp9, prores, gif, …
	Profile string `json:"profile"` // ffprobe profile: "High", "Main 10", …
	PixFmt  string `json:"pix_fmt"`
	// BitDepth is bits per sample of the pixel format (8, 10, 12).
	BitDepth int `json:"bit_depth"`
	// Width and Height are the display size, after rotation metadata.
	Width  int `json:"width"`
	Height int `json:"height"`
	// CodedWidth and CodedHeight are the stored size, before rotation.
	CodedWidth  int `json:"coded_width"`
	CodedHeight int `json:"coded_height"`
	// Rotation is the clockwise display rotation in degrees: 0, 90, 180 or 270.
	Rotation int `json:"rotation"`
	// SampleAspectRatio is the pixel shape, e.g. "1:1"; anything else is
	// anamorphic and Width/Height are not the display proportions. Empty when
	// unknown.
	SampleAspectRatio string `json:"sample_aspect_ratio,omitempty"`
	// FrameRate is the average frame rate (avg_frame_rate, falling back to
	// r_frame_rate).
	FrameRate float64 `json:"frame_rate"`
	// VariableFrameRate is set when the stream's frames are not evenly spaced.
	VariableFrameRate bool   `json:"variable_frame_rate"`
	BitRate           int64  `json:"bit_rate"`
	FrameCount        int64  `json:"frame_count"`
	ColorTransfer     string `json:"color_transfer,omitempty"`
	ColorPrimaries    string `json:"color_primaries,omitempty"`
	// ColorSpace is the matrix coefficients (ffprobe color_space), e.g.
	// bt709 or bt2020nc; a render that keeps HDR must tag all three.
	ColorSpace string `json:"color_space,omitempty"`
	// HDR is set for PQ (smpte2084) and HLG (arib-std-b67) transfer functions.
	HDR        bool   `json:"hdr"`
	FieldOrder string `json:"field_order,omitempty"`
}

// Audio describes the first audio stream.
type Audio struct {
	Index         int    `json:"index"`
	Codec         string `json:"codec"`
	Profile       string `json:"profile"` // "LC" for AAC-LC
	SampleRate    int    `json:"sample_rate"`
	Channels      int    `json:"channels"`
	ChannelLayout string `json:"channel_layout"`
	BitRate       int64  `json:"bit_rate"`
}

// Aspect returns the display aspect ratio width/height, or 0 without video.
func (i *Info) Aspect() float64 {
	if i.Video == nil || i.Video.Height == 0 {
		return 0
	}
	return float64(i.Video.Width) / float64(i.Video.Height)
}
