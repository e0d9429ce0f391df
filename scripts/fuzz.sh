#!/usr/bin/env bash
# Fuzzes armfix for SECONDS per target (default 60): `parse` (the JSON-with-comments parser,
# checked against serde_json) and `pipeline` (decode, parse, rule, plan, render, verify,
# then a second run that must be a no-op). Runs on the stable toolchain: cargo-fuzz passes
# nightly -Z flags, which RUSTC_BOOTSTRAP=1 lets the stable compiler accept.
#
#   scripts/fuzz.sh 300        # five minutes each
#
# Seeds: examples/*.json and fuzz/seeds/*; the corpus grows in fuzz/corpus/ (not committed).
# A crash is saved in fuzz/artifacts/TARGET/ and the script exits 1; replay it with
#   (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -a TARGET artifacts/TARGET/crash-...)
set -euo pipefail
secs="${1:-60}"
cd "$(dirname "$0")/../fuzz"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

mkdir -p corpus/parse corpus/pipeline logs
cp ../examples/*.json seeds/* corpus/parse/
# The pipeline target's first byte says where the rest goes (see fuzz_targets/pipeline.rs).
seed() { { printf "\\$(printf '%03o' "$1")"; cat "$2"; } >"corpus/pipeline/$(basename "$2").m$1"; }
for f in ../examples/*.json seeds/template-*; do seed 0 "$f"; done
for f in seeds/addon-*; do seed 1 "$f"; done
for f in seeds/cluster-*; do seed 2 "$f"; done
for f in seeds/resources-*; do seed 3 "$f"; done

status=0
for target in parse pipeline; do
    echo "== $target: ${secs}s"
    set +e
    cargo fuzz run --sanitizer none --debug-assertions "$target" "corpus/$target" -- \
        -max_total_time="$secs" -dict=armfix.dict -max_len=16384 -print_final_stats=1 \
        >"logs/$target.log" 2>&1
    code=$?
    set -e
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "logs/$target.log" | grep -Eo '[0-9]+$' || echo '?')
    cov=$(grep -Eo 'DONE[[:space:]]+cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "logs/$target.log" | tail -1 || true)
    if [ "$code" -eq 0 ]; then
        echo "$target: $runs executions in ${secs}s, no crash ($cov)"
    else
        status=1
        echo "$target: CRASH after $runs executions (exit $code); see fuzz/logs/$target.log"
        grep -E 'panicked|SUMMARY|Test unit written' "logs/$target.log" | head -5 || true
    fi
done
exit "$status"
