"""Regenerates results/strategies.md and results/strategies.png: the qualitative table
every canary guide prints (big bang, blue-green, shadow then canary, canary, A/B),
measured on the same good and bad releases with common random numbers.

    .venv/bin/python results/strategies.py [runs]      (about 3 minutes for 200 runs)

Good release: scenarios/aa-null.yaml (every rollback is false). Bad release:
scenarios/error-spike.yaml (errors 0.1 % -> 2 % ten minutes in). Both run a self-hosted
fleet of 48 replicas at 98.32 a replica-hour, 5 minutes to start a replica: big bang
replaces it in place (a rollback redeploys), blue-green keeps it as a standby.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import canarysim as cs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRATEGIES = {
    "big bang": "big-bang.yaml",
    "blue-green": "blue-green.yaml",
    "shadow, then canary": "shadow-canary.yaml",
    "canary (stepped)": "stepped.yaml",
    "A/B, 50/50 for 2 h": "ab-test.yaml",
}


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    good = os.path.join(ROOT, "scenarios", "aa-null.yaml")
    bad = os.path.join(ROOT, "scenarios", "error-spike.yaml")
    rows = []
    for name, file in STRATEGIES.items():
        policy = os.path.join(ROOT, "policies", "presets", file)
        g = cs.run(good, policy, runs=runs, seed=1).summary
        b = cs.run(bad, policy, runs=runs, seed=1).summary
        rows.append((name, file, g, b))
    out = [
        "# Rollout strategies, measured",
        "",
        f"Regenerate with `.venv/bin/python results/strategies.py {runs}`. {runs} runs each, seed 1,",
        "the same traffic for every strategy. Bad release: `error-spike` (errors 0.1 % -> 2 % at",
        "10 min); good release: `aa-null`. Both serve from a fleet of 48 replicas at 98.32 a",
        "replica-hour, and a new replica takes 5 minutes to load weights. Cost counts every",
        "replica running, standby and starting ones included: big bang replaces the fleet in",
        "place (`deployment: {stable_scale: dynamic}`), so its rollback is a redeploy and its",
        "mitigation waits 5 minutes for the old fleet; blue-green keeps the old fleet as a",
        "standby and runs a whole new one (`canary_scale: full`), so its rollback is a switch",
        "and it pays for two fleets; a canary keeps the stable fleet whole and grows a small one.",
        "",
        "| strategy | policy | blast radius, requests (bad, mean) | users (bad, mean) | detection p50 (bad) | time to mitigate p50 (bad) | false rollback rate (good) | rollout duration p50 (good) | cost per run (good, mean) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, file, g, b in rows:
        m = lambda s: "-" if s != s else f"{s / 60:.1f} min"
        out.append(
            f"| {name} | `presets/{file}` | {b['blast_radius_requests_mean']:.0f} | {b['blast_radius_users_mean']:.0f} | "
            f"{m(b['detection_time_p50'])} | {m(b['time_to_mitigate_p50'])} | "
            f"{100 * g['false_rollback_rate']:.1f} % [{100 * g['false_rollback_rate_low']:.1f}, {100 * g['false_rollback_rate_high']:.1f}] | "
            f"{m(g['rollout_duration_p50'])} | {g['cost_mean']:.2f} |")
    out += ["", "![blast radius against rollout duration](strategies.png)", ""]
    with open(os.path.join(ROOT, "results", "strategies.md"), "w") as f:
        f.write("\n".join(out))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, _, g, b in rows:
        ax.scatter(g["rollout_duration_p50"] / 60, max(b["blast_radius_requests_mean"], 1), s=60)
        ax.annotate(name, (g["rollout_duration_p50"] / 60, max(b["blast_radius_requests_mean"], 1)),
                    textcoords="offset points", xytext=(6, 4), fontsize=9)
    ax.set_yscale("log")
    ax.set_xlabel("rollout duration of a good release, p50 (minutes)")
    ax.set_ylabel("blast radius of a bad release (requests, mean; 1 = none)")
    ax.set_title("rollout strategies: speed against exposure")
    fig.tight_layout()
    fig.savefig(os.path.join(ROOT, "results", "strategies.png"), dpi=110)
    print("\n".join(out))


if __name__ == "__main__":
    main()
