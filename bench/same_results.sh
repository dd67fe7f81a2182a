#!/bin/bash
# Checks that two canarysim binaries give byte-identical results: every shipped scenario's
# runs (every column of `run --format csv`) and one timeline of each.
#   bench/same_results.sh OLD_CANARYSIM NEW_CANARYSIM [runs, default 16]
# Prints one line per scenario; exits 1 if any differs.
set -u
old=$1 new=$2 runs=${3:-16}
cd "$(dirname "$0")/.."
status=0
for f in scenarios/*.yaml; do
  verdict=""
  for what in "run $f --runs $runs --threads 2 --format csv --quiet" "timeline $f --run 1 --format csv"; do
    # shellcheck disable=SC2086  # the command's words are meant to split
    if cmp -s <("$old" $what 2>&1) <("$new" $what 2>&1); then verdict+=" same"; else verdict+=" DIFFERENT"; status=1; fi
  done
  echo "runs, timeline:$verdict  $f"
done
exit $status
