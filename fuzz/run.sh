#!/usr/bin/env bash
# Runs every fuzz harness (or those named) for SECONDS each, one after the other.
#   fuzz/run.sh BUILD_DIR SECONDS [ENTRY...]
# Seeds: the shipped files of each entry point's kind (below) and fuzz/corpus/ENTRY;
# every input that ever broke a harness, fuzz/regressions/ENTRY. New coverage goes to
# fuzz/work/ENTRY (not committed); findings to fuzz/findings/ENTRY-*: minimise one with
#   BUILD_DIR/fuzz/fuzz_ENTRY -minimize_crash=1 -runs=10000 FILE
# and keep it in fuzz/regressions/ENTRY, where `make test` replays it.
# Limits per input: 10 s, 1 GB of memory. Exit 1 when any harness found something.
set -uo pipefail
cd "$(dirname "$0")/.."
build=$1 seconds=$2
shift 2
entries=("$@")
[ ${#entries[@]} -gt 0 ] || entries=(scenario policy sweep tune power check import_argo import_flagger
                                     import_kayenta import_kayenta_stage import_aws import_aws_file trace trace_jsonl calibrate query export_policy
                                     fit_prometheus)

seeds() {
  case $1 in
    scenario) echo scenarios tests/data/bad ;;
    policy) echo policies/presets tests/data/bad ;;
    sweep|tune|power) echo results/studies tests/data/sweeps tests/data/bad-studies ;;
    check) echo tests/check tests/data/bad-studies ;;
    import_*) echo policies/examples tests/data/import-corpus ;;
    query) echo tests/data/queries ;;
    export_policy) echo policies/presets tests/data/roundtrip ;;
    trace|trace_jsonl) echo scenarios/traces tests/data/traces ;;
    fit_prometheus) echo scenarios/fitted-example ;;
    calibrate) echo scenarios/profiles ;;
  esac
}

failed=0
mkdir -p fuzz/findings
for e in "${entries[@]}"; do
  mkdir -p "fuzz/work/$e" "fuzz/corpus/$e" "fuzz/regressions/$e"
  log="fuzz/findings/$e.log"
  # shellcheck disable=SC2046
  # The outer timeout ends a harness stuck in its own out-of-memory report.
  timeout -s KILL $((seconds + 180)) "$build/fuzz/fuzz_$e" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=1024 \
    -max_len=16384 -dict=fuzz/yaml.dict -artifact_prefix="fuzz/findings/$e-" -print_final_stats=1 \
    "fuzz/work/$e" "fuzz/corpus/$e" "fuzz/regressions/$e" $(seeds "$e") > "$log" 2>&1
  status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  if [ $status -eq 0 ]; then
    printf '%-16s clean: %s inputs in %ss (%s exec/s)\n' "$e" "${runs:-?}" "$seconds" "${rate:-?}"
  else
    failed=1
    printf '%-16s FINDING (exit %d): %s\n' "$e" $status "$(grep -m1 -E 'ERROR|==[0-9]+==|uncaught|Timeout|out-of-memory' "$log")"
    ls fuzz/findings/"$e"-* 2>/dev/null | grep -v '\.log$' | sed 's/^/    /'
  fi
done
exit $failed
