#!/usr/bin/env bash
# Installs what Outpost's tests need on a fresh Debian machine, skipping
# whatever is already there: ffmpeg/ffprobe, PostgreSQL (for the Postgres leg
# of the store tests), and versitygw (a real S3-compatible server for the
# blob tests, built from the Go module proxy into ./.bin).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

pkgs=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || pkgs+=(ffmpeg)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || pkgs+=(postgresql)
# Fonts with wide script coverage for burned-in captions (Latin, Arabic,
# Hebrew, CJK) and the UI screenshots.
[ -d /usr/share/fonts/truetype/noto ] || pkgs+=(fonts-noto-core)
[ -d /usr/share/fonts/opentype/noto ] || pkgs+=(fonts-noto-cjk)
command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)

if [ ${#pkgs[@]} -gt 0 ]; then
	echo "install-deps: apt-get install ${pkgs[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

if [ -x scripts/versitygw.sh ]; then
	scripts/versitygw.sh
fi
