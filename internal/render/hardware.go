package render

import (
	"fmt"
	"strconv"
)

// Hardware is a family of hardware video encoders; "" is software (x264).
// Only H.264 targets are encoded on hardware: VP9, ProRes and GIF stay in
// software whatever is chosen.
type Hardware string

// The hardware encoder families (OUTPOST_ENCODER).
const (
	Software Hardware = ""
	NVENC    Hardware = "nvenc"
	VAAPI    Hardware = "vaapi"
	QSV      Hardware = "qsv"
)

// Hardwares are the families in the order auto tries them.
var Hardwares = []Hardware{NVENC, VAAPI, QSV}

// VAAPIDevice is the DRM render node the VAAPI encoder opens (the first
// GPU's).
const VAAPIDevice = "/dev/dri/renderD128"

// hardwareFamily is what differs between the hardware encoders: one home
// for their names, device set-up and frame upload.
type hardwareFamily struct {
	h264 string
	// encoders are every encoder of the family probed at start (the
	// H.264 one first).
	encoders []string
	// device is the global options that open the device, before the
	// inputs; upload the filters that move the frames onto it, after the
	// chain's own format filter.
	device []string
	upload string
}

var families = map[Hardware]hardwareFamily{
	NVENC: {h264: "h264_nvenc", encoders: []string{"h264_nvenc", "hevc_nvenc"}},
	VAAPI: {h264: "h264_vaapi", encoders: []string{"h264_vaapi"},
		device: []string{"-init_hw_device", "vaapi=va:" + VAAPIDevice, "-filter_hw_device", "va"},
		upload: "format=nv12,hwupload"},
	QSV: {h264: "h264_qsv", encoders: []string{"h264_qsv"}},
}

// ParseHardware reads a family name ("nvenc", "vaapi", "qsv"; "" or
// "software" for x264).
func ParseHardware(s string) (Hardware, error) {
	switch h := Hardware(s); h {
	case Software, "software":
		return Software, nil
	case NVENC, VAAPI, QSV:
		return h, nil
	}
	return Software, fmt.Errorf("unknown hardware encoder %q: want nvenc, vaapi, qsv or software", s)
}

// H264 is the family's H.264 encoder ("" for software).
func (h Hardware) H264() string { return families[h].h264 }

// Encoders are the family's encoders that are probed at start.
func (h Hardware) Encoders() []string { return families[h].encoders }

// familyOf is the family of an ffmpeg encoder name, Software for the
// others.
func familyOf(encoder string) Hardware {
	for h, f := range families {
		for _, e := range f.encoders {
			if e == encoder {
				return h
			}
		}
	}
	return Software
}

// OnHardware is e moved onto h's H.264 encoder, when e is x264. The
// quality level's rate control carries over (hardwareArgs); e's speed and
// threads do not apply.
func (e Encoding) OnHardware(h Hardware) Encoding {
	if h == Software || e.Encoder != "libx264" {
		return e
	}
	e.Encoder, e.Speed, e.Threads = h.H264(), "", 0
	return e
}

// hardwareArgs are a hardware encoder's rate control for e, the level's
// x264 settings mapped:
//   - NVENC: constant quality -cq (the level's CRF) in VBR mode, capped by
//     the same maxrate and bufsize; preset p5 with the hq tune; 2 B-frames;
//     forced keyframes are IDR frames (a segment's cut).
//   - VAAPI and QSV: VBR at half the cap, peaking at the cap, with the same
//     buffer (Intel's advice for its encoders: QVBR and ICQ are not
//     available on every driver); 2 B-frames; forced keyframes are IDR.
//
// A level without a cap (none today for H.264) uses constant quality:
// NVENC's -cq, VAAPI's CQP and QSV's ICQ at the CRF.
func (e Encoding) hardwareArgs() []string {
	args := []string{"-c:v", e.Encoder}
	switch familyOf(e.Encoder) {
	case NVENC:
		args = append(args, "-preset", "p5", "-tune", "hq", "-rc", "vbr", "-cq", strconv.Itoa(e.CRF), "-b:v", "0")
		if e.MaxRateKbps > 0 {
			args = append(args, "-maxrate", kbps(e.MaxRateKbps), "-bufsize", kbps(e.BufSizeKbps))
		}
		args = append(args, "-forced-idr", "1")
	case VAAPI:
		if e.MaxRateKbps > 0 {
			args = append(args, "-rc_mode", "VBR", "-b:v", kbps(e.MaxRateKbps/2), "-maxrate", kbps(e.MaxRateKbps), "-bufsize", kbps(e.BufSizeKbps))
		} else {
			args = append(args, "-rc_mode", "CQP", "-qp", strconv.Itoa(e.CRF))
		}
	case QSV:
		if e.MaxRateKbps > 0 {
			args = append(args, "-b:v", kbps(e.MaxRateKbps/2), "-maxrate", kbps(e.MaxRateKbps), "-bufsize", kbps(e.BufSizeKbps))
		} else {
			args = append(args, "-global_quality", strconv.Itoa(e.CRF))
		}
		args = append(args, "-forced_idr", "1")
	}
	if e.Profile != "" {
		args = append(args, "-profile:v", e.Profile)
	}
	return append(args, "-bf", "2")
}

// hardwareDevice is the global options e's encoder needs before the
// inputs (the VAAPI device); nil for the others.
func (e Encoding) hardwareDevice() []string { return families[familyOf(e.Encoder)].device }

// hardwareUpload is the filter chain that moves frames onto e's encoder's
// device (VAAPI), appended to the encode's chain; "" for the others.
func (e Encoding) hardwareUpload() string { return families[familyOf(e.Encoder)].upload }

// ProbeArgs is the one-frame test encode that tells whether h's encoder
// works on this machine (driver, device, library): a 256×256 black frame
// through the HD level's rate control (YouTube 1080p's caps), to nowhere.
// Without the options after -c:v, an encoder that opens with defaults but
// not with Outpost's settings would pass.
func ProbeArgs(encoder string) []string {
	e := Encoding{Encoder: encoder, CRF: 21, MaxRateKbps: 8000, BufSizeKbps: 16000, Profile: "high", GOP: 15}
	if encoder == "hevc_nvenc" {
		e.Profile = "main"
	}
	args := append([]string{"-loglevel", "error"}, e.hardwareDevice()...)
	args = append(args, "-f", "lavfi", "-i", "color=c=black:s=256x256:r=30", "-frames:v", "1", "-vf", "format=yuv420p")
	if up := e.hardwareUpload(); up != "" {
		args[len(args)-1] += "," + up
	}
	args = append(args, e.Args()...)
	return append(args, "-f", "null", "-")
}
