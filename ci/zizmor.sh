#!/usr/bin/env bash
# Lints the GitHub workflow offline with zizmor (every persona: its pedantic findings too).
# zizmor is installed from PyPI once, pinned, into the target directory as the manifests'
# set-ups are (`{target}/lockcheck-setup/`); a machine that cannot install it fails here,
# saying so, rather than skipping the lint.
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.32.0
dir="${CARGO_TARGET_DIR:-target}/lockcheck-setup/zizmor-$version"
zizmor="$dir/bin/zizmor"
if [ ! -x "$zizmor" ]; then
    command -v python3 >/dev/null ||
        { echo "zizmor: python3 is needed to install zizmor $version from PyPI" >&2; exit 1; }
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$dir" "zizmor==$version" ||
        { echo "zizmor: cannot install zizmor $version with pip (offline?); the workflow is not linted" >&2; exit 1; }
fi
"$zizmor" --offline --persona pedantic --no-progress ci/github-workflow.yml
