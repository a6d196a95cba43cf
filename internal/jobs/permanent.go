package jobs

import "outpost/internal/errcode"

// permanent reports whether a failure with code would happen again on a
// retry: the source, the request, the settings or the stored data are at
// fault, not the moment. A render or a publication that meets one fails in
// that attempt, with its code, instead of retrying in silence.
func permanent(code errcode.Code) bool {
	switch code {
	// The source and the request.
	case errcode.SourceNotFound, errcode.SourceEmpty, errcode.SourceUnreadable, errcode.SourceTruncated,
		errcode.SourceNoVideo, errcode.UnknownPreset, errcode.InvalidOption, errcode.PlatformRule,
		errcode.CaptionInvalid, errcode.WatermarkInvalid, errcode.TimelineInvalid, errcode.BrandKitInvalid,
		// This node's ffmpeg.
		errcode.FFmpegMissing, errcode.EncoderMissing, errcode.SVGUnsupported,
		// The post, its file and its account.
		errcode.FileNotFound, errcode.PlatformNotConfigured, errcode.PostInvalid, errcode.CaptionTooLong,
		errcode.ConnectionExpired, errcode.ConnectionUnreadable:
		return true
	}
	return false
}
