#!/bin/bash
# The sweep, tuning and power studies behind the README's claims (issue 6), on the
# project's 2-core machine: about 15 minutes. Needs `make` first (CLI and Python module).
#   results/studies.sh [sweep|tune|power]...     (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
cs=build/canarysim
dir=results/studies
what=${*:-sweep tune power}
for study in $what; do
  case $study in
    sweep)
      mkdir -p build/results
      rm -f build/results/bake-vs-error-rate.db
      $cs sweep $dir/bake-vs-error-rate.yaml --db build/results/bake-vs-error-rate.db -q \
        | tee $dir/bake-vs-error-rate.txt
      $cs export build/results/bake-vs-error-rate.db --format csv > $dir/bake-vs-error-rate.csv
      .venv/bin/python $dir/plot_sweep.py build/results/bake-vs-error-rate.db $dir/bake-vs-error-rate.png ;;
    tune)
      rm -rf $dir/tune-stepped
      $cs tune $dir/tune-stepped.yaml --out $dir/tune-stepped -q | tee $dir/tune-stepped.txt ;;
    power)
      for p in power-errors power-latency; do
        rm -rf $dir/$p
        $cs power $dir/$p.yaml --out $dir/$p -q | tee $dir/$p.txt
      done ;;
    *) echo "unknown study '$study'; expected sweep, tune or power" >&2; exit 2 ;;
  esac
done
