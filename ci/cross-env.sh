# Sourced by the platform scripts: installs what they need (once) and sets up the foreign
# toolchain. rustup's toolchain here has no foreign targets and no std source, so macOS and
# Windows builds use Debian's rustc-web/cargo-web (a current Rust with rust-src) and build std
# itself with -Zbuild-std.
#
# Caches live outside the clone, so that a fresh clone on the same machine starts warm:
#   $LOCKCHECK_PLATFORM_CACHE (default ~/.cache/lockcheck-platforms)
#     target-macos/   cargo target dir for the Apple targets
#     target-windows/ cargo target dir for x86_64-pc-windows-gnu
#     wine/           the Wine prefix

PLATFORM_CACHE=${LOCKCHECK_PLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lockcheck-platforms}
mkdir -p "$PLATFORM_CACHE"

# Installs Debian packages that are missing; the apt index is refreshed only if something is.
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# Runs Debian's cargo (and its rustc and clippy) for a foreign target, building std from source.
xcargo() {
    PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
        CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
        /usr/bin/cargo "$1" -Zbuild-std=std,panic_abort "${@:2}"
}

# Seconds since $1 (from `date +%s`), for the timing lines.
since() { echo "$(($(date +%s) - $1))s"; }
