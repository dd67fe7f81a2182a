#!/usr/bin/env bash
# Regenerates results/policies.md: the preset of every policy kind, its false rollback rate
# on the A/A scenario and its detection time on the error spike, 1,000 runs each, seed 1
# (about 15 minutes on two cores). The strategy presets (big bang, blue-green, shadow,
# A/B) have their own table: results/strategies.py.   results/policies.sh [build dir]
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:-build}/canarysim"
tmp=$(mktemp -d)
for name in argo burn-rate composite cusum drift ewma flagger kayenta sequential stepped stepped-p99 stepped-relative; do
  p=policies/presets/$name.yaml
  # A policy naming traffic segments these scenarios lack (a region plan) is skipped.
  "$cli" run scenarios/aa-null.yaml --policy "$p" --runs 1000 --seed 1 --quiet --format json > "$tmp/$name.aa.json" \
    2> "$tmp/$name.err" || { rm -f "$tmp/$name.aa.json"; continue; }
  "$cli" run scenarios/error-spike.yaml --policy "$p" --runs 1000 --seed 1 --quiet --format json > "$tmp/$name.spike.json"
done
/usr/bin/python3 - "$tmp" > results/policies.md <<'PY'
import glob, json, os, sys
tmp = sys.argv[1]
print("# Preset policies: false rollbacks and detection\n")
print("The preset of every policy kind in `policies/presets/`, 1,000 runs each, seed 1")
print("(`results/policies.sh`; the strategy presets are in `results/strategies.md`).")
print("False rollback rate on `aa-null` (canary identical to baseline) with its 95 % Wilson")
print("interval; on `error-spike` (errors 0.1 % -> 2 % at 10 min), the runs rolled back after")
print("the onset and their detection time (decision minus onset).\n")
print("| policy | kind | false rollback rate (aa-null) | rollout p50 (aa-null) | detected (error-spike) | false rollbacks before onset | detection p50 | detection p90 |")
print("|---|---|---|---|---|---|---|---|")
def pct(x): return f"{100 * x:.2f} %"
def mins(x): return "-" if x is None else f"{x / 60:.1f} min"
for aa_path in sorted(set(glob.glob(os.path.join(tmp, "*.aa.json")))):
    name = os.path.basename(aa_path)[:-len(".aa.json")]
    aa = json.load(open(aa_path)); sp = json.load(open(aa_path.replace(".aa.json", ".spike.json")))
    a, s = aa["summary"], sp["summary"]
    lo, hi = a["false_rollback_rate_low"], a["false_rollback_rate_high"]
    print(f"| `{name}` | {aa['policy']} | {pct(a['false_rollback_rate'])} [{pct(lo)}, {pct(hi)}] | "
          f"{mins(a['rollout_duration_p50'])} | {s['detection_time_count']} of {s['runs']} | "
          f"{s['false_rollbacks']} | {mins(s['detection_time_p50'])} | {mins(s['detection_time_p90'])} |")
PY
rm -rf "$tmp"
cat results/policies.md
