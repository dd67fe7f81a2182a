#!/usr/bin/env bash
# Regenerates results/scenarios/: every shipped scenario under its own policy, 1,000 runs,
# seed 1, as the table the CLI prints (about 10 minutes on two cores).
#   results/scenarios.sh [build dir]
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:-build}/canarysim"
mkdir -p results/scenarios
for f in scenarios/*.yaml; do
  name=$(basename "$f" .yaml)
  "$cli" run "$f" --runs 1000 --seed 1 --quiet > "results/scenarios/$name.txt"
  echo "$name: $(grep -E '^outcomes' "results/scenarios/$name.txt")"
done
