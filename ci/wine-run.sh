#!/usr/bin/env bash
# Windows under Wine: builds reflock, the runner and `lockcheck.exe` for x86_64-pc-windows-gnu
# (clippy -D warnings included), runs reflock's own tests under Wine, then has the Linux runner
# drive `wine64 lockcheck.exe adapter` (reflock's Windows backend) through the core, crash and
# shared levels, runs the Windows runner itself under Wine (core, crash, pause, shared, and
# a SIGKILL of the runner that must leave no adapter behind), and writes wine.md and the
# JSON reports into $WINE_REPORT_DIR (default target/wine-report; `WINE_REPORT_DIR=reports
# ci/wine-run.sh` refreshes the committed copy).
#
# Wine is strong evidence, not proof: see the "What Wine cannot show" section of the report.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source ci/cross-env.sh

ensure_packages rustc-web cargo-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64 wine64

target=x86_64-pc-windows-gnu
win_dir=${CARGO_TARGET_DIR_WINDOWS:-$PLATFORM_CACHE/target-windows}
bin_dir=$win_dir/$target/debug
report_dir=${WINE_REPORT_DIR:-target/wine-report}
mkdir -p "$report_dir"

t=$(date +%s)
# reflock's tests too, since they run below; for the others, what ships.
CARGO_TARGET_DIR=$win_dir xcargo clippy --target $target -p reflock --lib --tests -- -D warnings
CARGO_TARGET_DIR=$win_dir xcargo clippy --target $target \
    -p lockcheck-protocol -p lockcheck-runner -p lockcheck --lib --bins -- -D warnings
CARGO_TARGET_DIR=$win_dir xcargo build --target $target -p lockcheck
mapfile -t test_exes < <(CARGO_TARGET_DIR=$win_dir xcargo test --target $target -p reflock --no-run \
    --message-format=json 2>/dev/null | jq -r 'select(.executable != null) | .executable')
[ ${#test_exes[@]} -gt 0 ] || { echo "no reflock test binaries were built" >&2; exit 1; }
echo "Windows build (clippy, lockcheck.exe, reflock tests): $(since "$t")"

# Wine 8 lacks bcryptprimitives.dll (ProcessPrng), which Rust's std imports; a small DLL
# beside each .exe stands in for it.
shim=$bin_dir/bcryptprimitives.dll
if [ ! -f "$shim" ] || [ ci/wine/bcryptprimitives.c -nt "$shim" ]; then
    x86_64-w64-mingw32-gcc -O2 -shared -o "$shim" ci/wine/bcryptprimitives.c -lbcrypt
fi
cp "$shim" "$bin_dir/deps/"

export WINEPREFIX=$PLATFORM_CACHE/wine WINEDEBUG=-all
# Without address-space randomization. Debian's wine64 has no preloader to reserve the
# addresses Windows processes need, and the kernel places the loader's brk heap anywhere in
# the 1 GiB above it (0x7d000000), which now and then covers the shared user data page at
# 0x7ffe0000: that process dies before main with "failed to map the shared user data:
# c0000018" (exit 1), about once in a CI run of 50-way races. Children inherit the setting.
wine=(setarch -R /usr/lib/wine/wine64)
# One persistent wineserver, started here, so that it never belongs to a participant's
# process group (the runner kills those groups whole).
mkdir -p "$WINEPREFIX"
# A server left from an earlier run of this prefix would refuse the new persistent one.
/usr/lib/wine/wineserver -k 2>/dev/null || true
/usr/lib/wine/wineserver -w
/usr/lib/wine/wineserver -p
trap '/usr/lib/wine/wineserver -k 2>/dev/null || true' EXIT
# The first program in a fresh session also starts Wine's own services, which inherit its
# standard streams and live until `wineserver -k`: keep them off our output, or a reader of
# this script's output (a pipe, CI's log) would wait for them.
"${wine[@]}" "$bin_dir/lockcheck.exe" --version </dev/null >/dev/null 2>&1

t=$(date +%s)
for exe in "${test_exes[@]}"; do
    echo "==> reflock tests under Wine: $(basename "$exe")"
    # insta cannot run `cargo metadata` inside Wine, so it is told where the workspace is.
    (cd harness/reflock && INSTA_WORKSPACE_ROOT=$root INSTA_UPDATE=no "${wine[@]}" "$exe") |
        tee "$PLATFORM_CACHE/reflock-tests.txt"
    # Wine's exit status alone once let a run that stopped half-way through count as a pass.
    grep -q '^test result: ok\.' "$PLATFORM_CACHE/reflock-tests.txt" ||
        { echo "reflock tests under Wine did not finish: $(basename "$exe")" >&2; exit 1; }
done
echo "reflock tests under Wine: $(since "$t")"

# The Linux runner (host toolchain, the usual target dir), driving Windows participants.
cargo build -q -p lockcheck
host_lockcheck=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/debug/lockcheck
work=$(mktemp -d)
trap '/usr/lib/wine/wineserver -k 2>/dev/null || true; rm -rf "$work"' EXIT
cat >"$work/reflock-wine.toml" <<EOF
name = "reflock-wine"
description = "reflock's Windows backend: lockcheck.exe adapter, run by Wine"
command = [$(printf '"%s", ' "${wine[@]}")"$bin_dir/lockcheck.exe", "adapter"]
EOF
# LOCKCHECK_SCENARIOS=DIR runs a scenario directory instead of the built-in catalogue.
catalogue=()
[ -z "${LOCKCHECK_SCENARIOS:-}" ] || catalogue=(--scenarios "$LOCKCHECK_SCENARIOS")
t=$(date +%s)
status=0
"$host_lockcheck" run --impl "$work/reflock-wine.toml" "${catalogue[@]}" \
    --level core --level crash --level shared \
    --report "$work/report" | tee "$work/summary.txt" || status=$?
elapsed=$(since "$t")
echo "conformance under Wine (core, crash, shared): $elapsed"

# The runner's Windows backend, under Wine: lockcheck.exe runs the scenarios itself, so
# participants are started suspended inside Job objects, crashed with TerminateProcess and
# paused by suspending their threads.
t=$(date +%s)
"${wine[@]}" "$bin_dir/lockcheck.exe" run "${catalogue[@]}" --level core --level crash --level pause \
    --level shared --report "$work/win-runner" | tee "$work/win-runner.txt" || status=$?
echo "Windows runner under Wine (core, crash, pause, shared): $(since "$t")"

# Nothing outlives the Windows runner: SIGKILL it in the middle of race-50 (the Linux signal
# ends the Wine process without any cleanup of its own) and every adapter must be gone soon.
adapters() { pgrep -fc 'lockcheck\.exe adapter' || true; }
"${wine[@]}" "$bin_dir/lockcheck.exe" run --scenario race-50 >/dev/null 2>&1 &
runner=$!
for _ in $(seq 300); do [ "$(adapters)" -ge 10 ] && break; sleep 0.1; done
before=$(adapters)
kill -KILL "$runner"
wait "$runner" 2>/dev/null || true
for _ in $(seq 300); do [ "$(adapters)" -eq 0 ] && break; sleep 0.1; done
after=$(adapters)
echo "SIGKILLed Windows runner: $before adapters before, $after left after"
if [ "$before" -lt 10 ] || [ "$after" -ne 0 ]; then
    echo "the Job objects did not take the adapters down with the runner:" >&2
    pgrep -fa 'lockcheck\.exe adapter' >&2 || true
    status=1
fi

# The benchmark's Windows paths: the kit's QueryPerformanceCounter stamps and GetProcessTimes,
# the floor's synchronous LockFileEx, the Windows runner reading them back.
t=$(date +%s)
"${wine[@]}" "$bin_dir/lockcheck.exe" bench --contenders 1,2 --duration 100 --repeats 1 \
    --report "$work/win-bench" | tee "$work/win-bench.txt" || status=$?
echo "Windows bench under Wine: $(since "$t")"

cp "$work/report/report.json" "$report_dir/wine.json"
cp "$work/win-bench/bench.json" "$report_dir/wine-bench.json"
cp "$work/win-runner/report.json" "$report_dir/wine-windows-runner.json"
{
    cat <<'EOF'
# reflock's Windows backend under Wine

Generated by `ci/wine-run.sh` (part of `.ci/run`): the Linux runner starts every participant
as `wine64 lockcheck.exe adapter`, a Windows build (x86_64-pc-windows-gnu) of the built-in
reflock adapter, and runs the core, crash and shared levels. Full results: `wine.json`.

EOF
    echo "Wine: $(/usr/lib/wine/wine64 --version 2>/dev/null || echo unknown)," \
        "Rust: $(/usr/bin/rustc --version), seed 0," \
        "catalogue: ${LOCKCHECK_SCENARIOS:-built in}."
    echo
    echo "| scenario | level | verdict | iterations | ms |"
    echo "|---|---|---|---|---|"
    jq -r '.run.scenarios[] | "| \(.scenario) | \(.level) | \(.verdict.verdict) | \(.iterations) | \(.duration_ms) |"' \
        "$report_dir/wine.json"
    echo
    jq -r '.totals | "\(.passed) passed, \(.failed) failed, \(.skipped) skipped, \(.broken) broken (of \(.total))."' \
        "$report_dir/wine.json"
    cat <<'EOF'

## The runner's Windows backend, under Wine

`wine64 lockcheck.exe run` (core, crash, pause and shared levels): the Windows build runs
the scenarios itself, so each participant is started suspended, put in its own kill-on-close
Job object (nested in the runner's own), resumed, crashed with `TerminateProcess` and paused
by suspending every thread (`SuspendThread` on a Toolhelp32 snapshot). Full results: `wine-windows-runner.json`.

| scenario | level | verdict | iterations | ms |
|---|---|---|---|---|
EOF
    jq -r '.run.scenarios[] | "| \(.scenario) | \(.level) | \(.verdict.verdict) | \(.iterations) | \(.duration_ms) |"' \
        "$report_dir/wine-windows-runner.json"
    echo
    jq -r '.totals | "\(.passed) passed, \(.failed) failed, \(.skipped) skipped, \(.broken) broken (of \(.total))."' \
        "$report_dir/wine-windows-runner.json"
    echo
    echo "Runner SIGKILLed in the middle of race-50: $before adapters running before," \
        "$after left after."
    cat <<'EOF'

## The benchmark under Wine

`wine64 lockcheck.exe bench --contenders 1,2 --duration 100 --repeats 1`: the Windows build
measures reflock and the floor (`LockFileEx` on a synchronous handle) with
`QueryPerformanceCounter` stamps and `GetProcessTimes` CPU. Figures under Wine say that the
paths work, not how fast Windows is. Full results: `wine-bench.json`.

```text
EOF
    cat "$work/win-bench.txt"
    echo '```'
    cat <<'EOF'

## What Wine cannot show

Wine runs the Windows program, but the operating system underneath is Linux. Treat a pass here
as strong evidence that reflock's Windows backend is right, not as proof.

- **Lock semantics are wineserver's emulation**, built on Linux `fcntl` locks, not the Windows
  kernel's byte-range locks on NTFS. Mandatory-lock effects on reads and writes, SMB shares
  and antivirus filters are not exercised.
- **Lock waits take a different path.** Wine 8 does not queue an overlapped `LockFileEx`: it
  answers `ERROR_IO_PENDING` and never completes the request. reflock detects that (the
  OVERLAPPED status word is left untouched) and falls back to retrying a non-blocking
  request with a pause of up to 8 ms. So the blocking and timeout scenarios here exercise that
  fallback; the event-driven wait and `CancelIoEx` that Windows uses are only type-checked and
  linted here, and run on the GitHub Actions `windows-latest` job (`ci/github-workflow.yml`).
- **Faults in the first table are Linux signals**: the Linux runner SIGKILLs the Wine
  process. The second table runs the runner's Windows backend, but Job objects, thread
  suspension and `TerminateProcess` are then wineserver's versions of them. The pause level
  is run only there, and a paused holder of a kernel lock stays the holder whether or not its
  threads have really stopped, so it shows that pause and resume work, not how promptly.
- **Process identity differs**: the pid reflock records is Wine's Windows pid, not the Linux
  pid the runner sees, so holder-info checks are not meaningful here (fs level, not run).
- **Not run at all**: the process and fs levels (symlinks, permissions and ACLs, child
  processes through `cmd.exe`).
EOF
} >"$report_dir/wine.md"
echo "wrote $report_dir/wine.md and $report_dir/wine.json"
exit "$status"
