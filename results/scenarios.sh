#!/usr/bin/env bash
# Regenerates results/scenarios/: every shipped scenario under its own policy, 1,000 runs
# (production: 100, about 4 s a run), seed 1, as the table the CLI prints (about 15
# minutes on two cores).
#   results/scenarios.sh [build dir]
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:-build}/canarysim"
mkdir -p results/scenarios
for f in scenarios/*.yaml; do
  name=$(basename "$f" .yaml)
  runs=1000
  [ "$name" = production ] && runs=100
  "$cli" run "$f" --runs "$runs" --seed 1 --quiet > "results/scenarios/$name.txt"
  echo "$name: $(grep -E '^outcomes' "results/scenarios/$name.txt")"
done
