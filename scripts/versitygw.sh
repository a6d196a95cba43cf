#!/usr/bin/env bash
# Installs the versitygw S3 gateway (used by the internal/blob S3 tests) into
# <repo>/.bin when it is not there yet. Idempotent: a second run is a no-op.
# Override the version with VERSITYGW_VERSION, the directory with VERSITYGW_BIN_DIR.
set -euo pipefail

version="${VERSITYGW_VERSION:-v1.8.0}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${VERSITYGW_BIN_DIR:-$repo_root/.bin}"
bin="$bin_dir/versitygw"

if [[ -x "$bin" ]]; then
	# The binary reports no version itself; its build info does.
	have="$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/versity/versitygw" { print $3 }')"
	if [[ "$have" == "$version" ]]; then
		echo "versitygw: $version already installed at $bin"
		exit 0
	fi
	echo "versitygw: $bin is ${have:-of unknown version}, want $version: reinstalling"
fi

mkdir -p "$bin_dir"
echo "versitygw: installing github.com/versity/versitygw/cmd/versitygw@$version into $bin_dir (about a minute)"
start=$(date +%s)
# Run outside the repo so the project's go.mod is neither read nor touched.
(cd / && GOBIN="$bin_dir" go install "github.com/versity/versitygw/cmd/versitygw@$version")
echo "versitygw: installed $bin in $(( $(date +%s) - start ))s"
