#!/usr/bin/env bash
# The long fuzz run: the readers' seeded property tests with a million cases each (the test
# suite runs a few hundred). Not part of .ci/run; run it on an idle machine and put the result
# in reports/fuzz.md. Release mode, because the debug build is several times slower.
#
#   ci/fuzz.sh            # 1000000 cases
#   ci/fuzz.sh 50000      # fewer
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-1000000}"
export PROPTEST_CASES="$cases"
# The scenario and manifest readers and decode (model), the protocol's line decoders,
# reflock's holder-metadata decoder, and report.json reading.
cargo nextest run --profile fuzz --release --no-fail-fast \
    -p lockcheck-model -p lockcheck-protocol -p reflock -p lockcheck-report \
    -E 'test(/fuzz::|never_panic|arbitrary/)'
