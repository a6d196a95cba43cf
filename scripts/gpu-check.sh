#!/usr/bin/env bash
# Checks Outpost's NVENC path on a machine with an NVIDIA GPU:
#   1. builds bin/outpost;
#   2. exports a generated 10 s 1080p30 clip to youtube-1080p + instagram-reel
#      with OUTPOST_ENCODER=nvenc, and checks the result: the plan uses
#      h264_nvenc, the export passed its check stage (profile, level, caps,
#      durations), ffprobe reads H.264 High, and the stream was not written
#      by x264; the same export in 2 segments (--segments 2), joined;
#   3. runs the render bench's "three" case with OUTPOST_ENCODER=nvenc and
#      with software, and prints both tables.
# Without an NVIDIA GPU, or with an ffmpeg that has no working h264_nvenc, it
# says so and exits 2. Usage: scripts/gpu-check.sh [bench seconds, default 30]
set -euo pipefail

seconds="${1:-30}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
	echo "gpu-check: no NVIDIA GPU here (nvidia-smi is missing or finds none): nothing to check." >&2
	exit 2
fi
nvidia-smi -L
if ! ffmpeg -hide_banner -encoders 2>/dev/null | grep -q ' h264_nvenc '; then
	echo "gpu-check: this ffmpeg ($(command -v ffmpeg)) was built without h264_nvenc: install one with NVENC (Debian's has it)." >&2
	exit 2
fi
for tool in go ffprobe jq; do
	command -v "$tool" >/dev/null || { echo "gpu-check: $tool is needed" >&2; exit 2; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== build"
go build -o bin/outpost ./cmd/outpost

echo "== a 10 s 1080p30 clip"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 \
	-f lavfi -i sine=frequency=440:sample_rate=48000 -t 10 -vf noise=alls=10:allf=t \
	-c:v libx264 -preset veryfast -profile:v main -b:v 12000k -pix_fmt yuv420p -c:a aac "$work/clip.mp4"

presets=(--preset youtube-1080p --preset instagram-reel)
echo "== OUTPOST_ENCODER=nvenc: the plan"
if ! OUTPOST_ENCODER=nvenc bin/outpost export "$work/clip.mp4" "${presets[@]}" --out "$work/nvenc" --plan >"$work/plan.json" 2>"$work/plan.err"; then
	cat "$work/plan.err" >&2
	echo "gpu-check: OUTPOST_ENCODER=nvenc was refused: the NVENC test encode fails on this machine (driver? see above)." >&2
	exit 2
fi
encoders="$(jq -r '[.outputs[].encoding.encoder // empty] | unique | join(",")' "$work/plan.json")"
echo "encoders: $encoders"
[[ "$encoders" == "h264_nvenc" ]] || { echo "gpu-check: FAIL: the plan encodes with $encoders, want h264_nvenc" >&2; exit 1; }

fail=0
check_export() { # folder, extra flags…
	local out="$1"; shift
	OUTPOST_SEGMENT_MIN_SECONDS="$segmin" OUTPOST_ENCODER=nvenc bin/outpost export "$work/clip.mp4" "${presets[@]}" --out "$out" --json "$@" >"$out.json" || true
	if [[ "$(jq -r .ok "$out.json")" != "true" ]]; then
		echo "gpu-check: FAIL: export $* failed:" >&2
		jq '.error, [.outputs[] | {preset, error, check}]' "$out.json" >&2
		fail=1
		return
	fi
	for f in "$out"/youtube-1080p.mp4 "$out"/instagram-reel.mp4; do
		local v
		v="$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,profile,width,height,nb_frames -of csv=p=0 "$f")"
		echo "$(basename "$f"): $v (check stage passed)"
		[[ "$v" == h264,High,* ]] || { echo "gpu-check: FAIL: $f is $v, want H.264 High" >&2; fail=1; }
		if grep -q -a 'x264 - core' "$f"; then
			echo "gpu-check: FAIL: $f was written by x264, not NVENC" >&2
			fail=1
		fi
	done
}
echo "== OUTPOST_ENCODER=nvenc: one pass"
segmin=10
check_export "$work/nvenc"
echo "== OUTPOST_ENCODER=nvenc: 2 segments, joined"
segmin=2
check_export "$work/nvenc-seg" --segments 2
[[ $fail == 0 ]] || exit 1

echo "== bench: three social targets, ${seconds} s source, NVENC vs software"
for enc in nvenc software; do
	echo "-- OUTPOST_ENCODER=$enc"
	OUTPOST_ENCODER=$enc go run ./cmd/outpost-bench -outpost bin/outpost -cases three -seconds "$seconds" -runs 3
done
echo "gpu-check: OK"
