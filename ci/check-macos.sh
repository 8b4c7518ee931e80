#!/usr/bin/env bash
# Type-checks reflock, the protocol, the runner and the CLI for macOS (Apple silicon and
# Intel) with `cargo check` and `cargo clippy -D warnings`. Nothing here runs on macOS: this
# proves the macOS code paths compile and are lint-clean, not that they behave.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/cross-env.sh

ensure_packages rustc-web cargo-web rust-web-src rust-web-clippy

packages=(-p reflock -p lockcheck-protocol -p lockcheck-runner -p lockcheck)
targets=(--target aarch64-apple-darwin --target x86_64-apple-darwin)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR_MACOS:-$PLATFORM_CACHE/target-macos}  # this script builds nothing else

t=$(date +%s)
# Libraries and binaries only: the test targets pull in dev-dependencies (criterion) that
# compile C for the target, and there is no Apple SDK here.
xcargo clippy "${targets[@]}" "${packages[@]}" --lib --bins -- -D warnings
xcargo check "${targets[@]}" "${packages[@]}" --lib --bins
echo "macOS check (aarch64 + x86_64, check + clippy): $(since "$t")"
