#!/usr/bin/env bash
# Self-scan: fail when the output of a test run (logs, the server's
# output, artefacts) holds personal information in clear that is not one of
# the suite's known fixture values (.ci/pii-allow.txt).
#
#   go test ./... 2>&1 | tee artifacts/go-test.log
#   scripts/selfscan.sh artifacts
#
# Exit status: 0 clean, 1 a value in clear was found (the report on
# standard output names file:line:column, never the value), 2 an error.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
  echo "usage: scripts/selfscan.sh PATH..." >&2
  exit 2
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/custos" ./cmd/custos
"$bin/custos" scan --fail-on any --allow .ci/pii-allow.txt \
  --exclude '*.png' --exclude '*.jpg' --exclude '*.pdf' --max-size 512M "$@"
