#!/bin/bash
# Runs two builds of a bench at the same time, one on each core, swapping cores between
# pairs, so that whatever slows this machine slows both; prints each pair's medians and
# their ratio, then the median ratio. Alternating runs one after the other moved by
# +-10 % here; pairs move less (bench/README.md, seventh pass).
#   bench/pairs.sh BEFORE_BENCH AFTER_BENCH [pairs, default 6] [bench arguments, default 3 3]
set -u
before=$1 after=$2 pairs=${3:-6}
shift $(($# < 3 ? $# : 3))
args=${*:-3 3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ratios=()
for ((i = 0; i < pairs; i++)); do
  core=$((i % 2))
  # shellcheck disable=SC2086
  taskset -c $core "$before" $args >"$out/before" 2>&1 &
  # shellcheck disable=SC2086
  taskset -c $((1 - core)) "$after" $args >"$out/after" 2>&1
  wait
  b=$(grep -o 'median: [0-9.]*' "$out/before" | cut -d' ' -f2)
  a=$(grep -o 'median: [0-9.]*' "$out/after" | cut -d' ' -f2)
  r=$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')
  ratios+=("$r")
  printf 'pair %d: before %s, after %s, ratio %.3f\n' "$i" "$b" "$a" "$r"
done
printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "median ratio %.3f over %d pairs (%.3f to %.3f)\n", m, NR, v[1], v[NR]}'
