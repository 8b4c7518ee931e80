#!/usr/bin/env bash
# The soak run: the whole catalogue against reflock in a loop in one runner process, with the
# flake rate and whether descriptors, threads, processes, temp directories or cgroups grow
# (harness/cli/benches/soak.rs). Not part of .ci/run; run it on an idle machine (load average
# under 2) and commit reports/soak.md. Release build unless LOCKCHECK_SOAK_PROFILE says
# otherwise (`dev` reuses a debug target directory).
#
#   ci/soak.sh        # 10 minutes
#   ci/soak.sh 2      # 2 minutes
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
profile="${LOCKCHECK_SOAK_PROFILE:-release}"
cargo bench --profile "$profile" -p lockcheck --bench soak -- --minutes "$minutes" >reports/soak.md.new
mv reports/soak.md.new reports/soak.md
cat reports/soak.md
