#!/usr/bin/env bash
# The platform checks `.ci/run` runs: the GitHub workflow linted, macOS type-checked, Windows
# built and run under Wine.
# Set LOCKCHECK_SKIP_PLATFORMS=1 to skip them (for example on a machine without root).
set -euo pipefail
cd "$(dirname "$0")/.."

# GitHub reads workflows only from .github/workflows; the copy there must match the source.
cmp ci/github-workflow.yml .github/workflows/ci.yml ||
    { echo "run: cp ci/github-workflow.yml .github/workflows/ci.yml" >&2; exit 1; }
# The workflow passes zizmor's offline audits (a second or two once zizmor is installed).
bash ci/zizmor.sh

if [ -n "${LOCKCHECK_SKIP_PLATFORMS:-}" ]; then
    echo "platform checks skipped (LOCKCHECK_SKIP_PLATFORMS is set)"
    exit 0
fi
start=$(date +%s)
bash ci/check-macos.sh
bash ci/wine-run.sh
echo "platform checks: $(($(date +%s) - start))s in all"
