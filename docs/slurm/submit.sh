#!/bin/bash
# Runs a canarysim sweep on a Slurm cluster: an array of N shard tasks, then a merge job
# that starts only if every task succeeded. Prints the merge job's id.
#   docs/slurm/submit.sh SWEEP.yaml N OUTDIR [MERGED.db] [-- extra sbatch options]
# The sweep, its scenario and policy files, OUTDIR and canarysim (or $CANARYSIM) must be
# reachable at the same paths on the compute nodes (a shared filesystem).
set -euo pipefail
usage="usage: $0 SWEEP.yaml N OUTDIR [MERGED.db] [-- sbatch options]"
sweep=$(realpath "${1:?$usage}")
n=${2:?$usage}
out=$(realpath -m "${3:?$usage}")
merged=$(realpath -m "${4:-$out/merged.db}")
shift $(( $# < 4 ? $# : 4 ))
[ "${1:-}" = "--" ] && shift
here=$(dirname "$(realpath "$0")")
mkdir -p "$out"
array=$(sbatch --parsable --array="1-$n" --chdir="$out" "$@" "$here/sweep-array.sbatch" "$sweep" "$out")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --chdir="$out" "$@" \
  "$here/merge.sbatch" "$out" "$n" "$merged")
echo "${merge%%;*}"
