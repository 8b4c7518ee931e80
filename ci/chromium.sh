#!/usr/bin/env bash
# Prints the path of a headless-capable Chromium (or Google Chrome), installing Debian's
# `chromium` package when there is none and this runs as root with apt-get. The browser tests run it before their
# first browser; several test processes may at once, so one installs while the others wait
# on LOCK_FILE (the first argument) and then find it installed.
set -euo pipefail
lock_file=${1:?usage: chromium.sh LOCK_FILE}
# Debian's and Ubuntu's names, then Google Chrome's, on PATH or where macOS installs it.
find_browser() {
    local name
    for name in chromium chromium-browser google-chrome google-chrome-stable \
        "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"; do
        if command -v "$name" >/dev/null; then
            command -v "$name"
            return
        fi
    done
}
browser=$(find_browser)
if [[ -z $browser ]]; then
    mkdir -p "$(dirname "$lock_file")"
    exec 9>"$lock_file"
    flock 9
    browser=$(find_browser)
    if [[ -z $browser ]]; then
        if ! "$(dirname "$0")/apt-install.sh" chromium fonts-dejavu-core >&2; then
            echo "installing Debian's chromium with apt-get failed (see above)" >&2
            exit 1
        fi
        browser=$(find_browser)
    fi
    exec 9>&-
fi
if [[ -z $browser ]]; then
    echo "chromium was installed but is not on PATH" >&2
    exit 1
fi
echo "$browser"
