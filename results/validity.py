#!/usr/bin/env python3
"""Regenerates results/validity.md: every preset policy (and the sequential kind at alpha
5 %) on the A/A scenario over a grid of traffic levels and analysis intervals, with the
false rollback rate and its 95 % Wilson interval, flagged where it breaks the kind's
documented promise.

    /usr/bin/python3 results/validity.py [CLI] [--quick]

CLI defaults to build/canarysim (copy it elsewhere first if you rebuild while this runs).
Each cell is `canarysim run` on aa-null.yaml with traffic.rate set, and every `interval`
key of the policy set to the column's interval (Argo's controller tick stays at most
10 s). Run counts fall with traffic, so that the grid takes about half an hour on two
cores: 400 runs at 1 and 5/s, 200 at 50/s, 60 at 500/s, 20 at 2,000/s; the intervals
say how much each cell can tell. --quick runs a tenth of them (for a look, not the table).
"""

import json
import os
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATES = [1, 5, 50, 500, 2000]
RUNS = {1: 400, 5: 400, 50: 200, 500: 60, 2000: 20}
INTERVALS = ["10s", "1m", "5m"]
# What a kind promises about false rollbacks on a good release, as its documentation
# states it: the sequential kind, at most alpha however often it looks and at any traffic.
# The other kinds state no guarantee; their cells above 5 % are marked for attention.
ATTENTION = 0.05


def set_intervals(node, interval):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "interval" and isinstance(v, (str, int, float)):
                node[k] = interval
            else:
                set_intervals(v, interval)
    elif isinstance(node, list):
        for v in node:
            set_intervals(v, interval)


def seconds(text):
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]]


def promise(policy):
    if policy.get("kind") == "sequential":
        alpha = policy.get("alpha", "5%")
        return float(str(alpha).rstrip("%")) / 100 if str(alpha).endswith("%") else float(alpha)
    return None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    cli = args[0] if args else os.path.join(ROOT, "build", "canarysim")
    presets = sorted(f for f in os.listdir(os.path.join(ROOT, "policies", "presets")) if f.endswith(".yaml"))
    with open(os.path.join(ROOT, "scenarios", "aa-null.yaml")) as f:
        scenario = yaml.safe_load(f)
    scenario.pop("policy", None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # Relative paths in the scenario (profiles, traces) resolve from scenarios/.
        scen_dir = os.path.join(ROOT, "scenarios")
        for preset in presets:
            with open(os.path.join(ROOT, "policies", "presets", preset)) as f:
                policy = yaml.safe_load(f)
            if "stages" in policy:  # a plan over traffic segments aa-null does not have
                continue
            row = {"preset": preset[:-5], "kind": policy["kind"], "promise": promise(policy), "cells": {}}
            for interval in INTERVALS:
                p = json.loads(json.dumps(policy))
                set_intervals(p, interval)
                if p["kind"] == "argo":
                    p["tick"] = "10s" if seconds(interval) >= 10 else interval
                ppath = os.path.join(tmp, f"{preset[:-5]}-{interval}.yaml")
                with open(ppath, "w") as f:
                    yaml.safe_dump(p, f)
                for rate in RATES:
                    s = json.loads(json.dumps(scenario))
                    s["traffic"]["rate"] = f"{rate}/s"
                    spath = os.path.join(scen_dir, f".validity-{os.getpid()}.yaml")
                    with open(spath, "w") as f:
                        yaml.safe_dump(s, f)
                    runs = max(4, RUNS[rate] // 10) if quick else RUNS[rate]
                    out = subprocess.run([cli, "run", spath, "--policy", ppath, "--runs", str(runs), "--seed", "1",
                                          "--quiet", "--format", "json"], capture_output=True, text=True)
                    os.remove(spath)
                    if out.returncode != 0:
                        error = out.stderr.strip().splitlines()[-1].replace(ppath, f"policies/presets/{preset} at {interval}")
                        row["cells"][(rate, interval)] = {"error": error}
                        continue
                    summary = json.loads(out.stdout)["summary"]
                    row["cells"][(rate, interval)] = {
                        "runs": summary["runs"], "rate": summary["false_rollback_rate"],
                        "ci": [summary["false_rollback_rate_low"], summary["false_rollback_rate_high"]], "unfinished": summary["unfinished"]}
                    print(f"{preset} {interval} {rate}/s: {summary['false_rollback_rate']:.3f}", file=sys.stderr)
            rows.append(row)
    write(rows, quick)


def cell_text(c, promised):
    if "error" in c:
        return "refused¹"
    low, high = c["ci"]
    text = f"{100 * c['rate']:.1f} [{100 * low:.1f}, {100 * high:.1f}]"
    if promised is not None and low > promised:
        text += " **breaks alpha**"
    elif promised is None and low > ATTENTION:
        text += " ▲"
    if c["unfinished"]:
        text += f" ({c['unfinished']} unfinished)"
    return text


def write(rows, quick):
    lines = ["# Validity: false rollbacks on good releases across traffic and analysis intervals", "",
             "Every preset in `policies/presets/` on `aa-null` (canary identical to the baseline) with",
             "`traffic.rate` and every `interval` of the policy set as the row and column say; seed 1.",
             "A cell is the false rollback rate in percent with its 95 % Wilson interval. Runs per cell:",
             "400 at 1 and 5 requests/s, 200 at 50/s, 60 at 500/s, 20 at 2,000/s (the interval says how",
             "much a cell can tell). **breaks alpha**: the interval lies wholly above the kind's",
             "documented promise (the `sequential` kind: at most alpha, 5 %, however often it looks and",
             "at any traffic). ▲: no promise is documented for the kind, and the interval lies wholly",
             "above 5 %. Regenerate with `/usr/bin/python3 results/validity.py` (about half an hour).",
             ""]
    if quick:
        lines += ["(**--quick**: a tenth of the runs; not the committed table.)", ""]
    for interval in INTERVALS:
        lines += [f"## Looking every {interval}", "",
                  "| preset | kind | " + " | ".join(f"{r}/s" for r in RATES) + " |",
                  "|---|---|" + "---|" * len(RATES)]
        for row in rows:
            cells = [cell_text(row["cells"][(r, interval)], row["promise"]) for r in RATES]
            lines.append(f"| `{row['preset']}` | {row['kind']} | " + " | ".join(cells) + " |")
        lines.append("")
        refused = {row["preset"]: c["error"] for row in rows for (r, i), c in row["cells"].items()
                   if i == interval and "error" in c}
        for preset, error in sorted(refused.items()):
            lines.append(f"¹ `{preset}` at {interval}: {error}")
        if refused:
            lines.append("")
    with open(os.path.join(ROOT, "results", "validity.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
