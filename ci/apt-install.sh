#!/usr/bin/env bash
# Installs Debian packages for a test set-up: apt-install.sh PACKAGE... (as root, with
# apt-get). Set-ups run at once under nextest (the Go seeds, the browser tests), and two
# apt-gets at once fail on apt's own locks, so every set-up goes through this one script: it
# holds a machine-wide lock while apt runs, and waits for apt's locks should anything else be
# using apt.
set -euo pipefail
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "cannot install $* here: needs root and apt-get" >&2
    exit 1
fi
exec 9>/var/lock/lockcheck-apt.lock
flock 9
# Another set-up may have installed them while this one waited.
if status=$(dpkg-query -W -f='${Status}\n' "$@" 2>/dev/null) &&
    ! grep -qvx 'install ok installed' <<<"$status"; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
wait_for_apt=(-o DPkg::Lock::Timeout=600)
apt-get "${wait_for_apt[@]}" update -qq
apt-get "${wait_for_apt[@]}" install -y -qq --no-install-recommends "$@"
