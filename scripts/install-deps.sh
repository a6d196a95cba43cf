#!/usr/bin/env bash
# Installs what Outpost needs on a fresh Debian machine, skipping whatever is
# already there.
#
#   scripts/install-deps.sh            everything the tests need (make test)
#   scripts/install-deps.sh --runtime  what the service needs to run (make run):
#                                      ffmpeg/ffprobe and the caption fonts
#
# The tests also need PostgreSQL (the Postgres leg of the store tests),
# Chromium (the UI tests) and versitygw (a real S3-compatible server for the
# blob tests, built from the Go module proxy into ./.bin).
set -euo pipefail
cd "$(dirname "$0")/.."

runtime_only=false
case "${1:-}" in
"") ;;
--runtime) runtime_only=true ;;
*)
	echo "usage: $0 [--runtime]" >&2
	exit 2
	;;
esac

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

pkgs=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || pkgs+=(ffmpeg)
# Fonts with wide script coverage for burned-in captions (Latin, Arabic,
# Hebrew, CJK) and the UI screenshots.
[ -d /usr/share/fonts/truetype/noto ] || pkgs+=(fonts-noto-core)
[ -d /usr/share/fonts/opentype/noto ] || pkgs+=(fonts-noto-cjk)
if ! $runtime_only; then
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || pkgs+=(postgresql)
	command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
fi

if [ ${#pkgs[@]} -gt 0 ]; then
	echo "install-deps: apt-get install ${pkgs[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

if ! $runtime_only && [ -x scripts/versitygw.sh ]; then
	scripts/versitygw.sh
fi
