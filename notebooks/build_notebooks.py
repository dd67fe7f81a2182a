"""Writes the notebooks in this folder from their cells, and executes them in place so
that they are committed with their outputs:  .venv/bin/python notebooks/build_notebooks.py
(make test re-executes them headless; this script is for changing them)."""

import os
import sys

import nbformat
from nbclient import NotebookClient

HERE = os.path.dirname(os.path.abspath(__file__))


def md(text):
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text):
    return nbformat.v4.new_code_cell(text.strip())


SETUP = code("""
import canarysim as cs
from canarysim import plots
import matplotlib.pyplot as plt
import pandas as pd
pd.set_option("display.width", 120)
""")

NOTEBOOKS = {
    "01-quickstart.ipynb": [
        md("""
# canarysim quickstart

Load a scenario, run a Monte Carlo study of a canary policy, and look at the results as
pandas DataFrames and plots. The scenario `default.yaml` has a canary whose time to first
token is 25 % slower than the baseline's; the policy is the preset `stepped` ladder
(1-5-10-25-50 %, ten minutes per step, analysis every minute).
"""),
        SETUP,
        code("""
scenario = cs.Scenario.load("../scenarios/default.yaml")
study = cs.run(scenario, runs=500, seed=1)
study.runs.head()
"""),
        md("The summary is a plain dict, with the same keys as the CLI's JSON:"),
        code("""
s = study.summary
print(f"rolled back {s['rolled_back']} of {s['runs']} runs; false rollback rate "
      f"{s['false_rollback_rate']:.2%} (95% CI {s['false_rollback_rate_low']:.2%}-{s['false_rollback_rate_high']:.2%})")
study.summary_frame()
"""),
        md("""
## One run up close
The timeline shows, at every analysis tick, the weight, what monitoring showed for each
version, and the decision with its reason.
"""),
        code("""
t = cs.timeline(scenario, run=0, seed=1)
plots.plot_timeline(t, sli="ttft_p99_s")
plt.tight_layout()
t[["time_s", "weight", "action", "reason"]].tail(4)
"""),
        md("## Detection time and blast radius over all runs"),
        code("""
fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
plots.plot_detection_cdf(study, ax=a)
plots.plot_blast_radius(study, ax=b)
plt.tight_layout()
"""),
        md("""
## Change anything and run again
Any field can be changed by its dotted path. Here the regression is halved: a 12.5 %
slower canary is harder to see and is caught later, if at all.
"""),
        code("""
milder = scenario.copy().set("regressions.0.ttft_multiplier", 1.125)
m = cs.run(milder, runs=500, seed=1).summary
print("rolled back:", m["rolled_back"], "of", m["runs"], "| detection p50:", m["detection_time_p50"], "s")
"""),
    ],
    "02-tuning-thresholds.ipynb": [
        md("""
# Tuning one policy's threshold: the trade-off curve

A check's threshold trades false rollbacks of good releases against slower (or missed)
detection of bad ones. `cs.tradeoff` runs the policy on a good release (`aa-null`: the
canary equals the baseline) and on a bad one (`default`: TTFT 25 % slower), on the same
seeds, for each value of one parameter: here the TTFT p90 ratio limit of the preset.
"""),
        SETUP,
        code("""
curve = cs.tradeoff("../scenarios/aa-null.yaml", "../scenarios/default.yaml",
                    "../policies/presets/stepped.yaml", "checks.1.max_ratio",
                    [1.05, 1.1, 1.15, 1.2, 1.3], runs=150, seed=1)
curve
"""),
        code("""
plots.plot_tradeoff(curve, label="max_ratio")
plt.title("stepped preset: TTFT p90 ratio limit")
plt.tight_layout()
"""),
        md("""
Tight limits catch the slow canary at the first analyses but roll back good releases;
loose ones stop rolling back good releases and start missing the 25 % regression. The
Wilson intervals on the false rollback rate show how many runs a decision needs.
"""),
    ],
    "03-comparing-policies.ipynb": [
        md("""
# Comparing policies on the same traffic

`cs.compare` runs several policies on the same runs: run *i* of each sees the same
arrivals and the same per-request draws (common random numbers), so the differences are
paired and their intervals are narrow. Two scenarios where the choice of check matters:
a regression only the latency tail shows, and an incident in a component both versions
share.
"""),
        SETUP,
        code("""
policies = {
    "stepped (p90)": "../policies/presets/stepped.yaml",
    "stepped (p99)": "../policies/presets/stepped-p99.yaml",
    "stepped (relative)": "../policies/presets/stepped-relative.yaml",
}
tail = cs.compare("../scenarios/tail-latency.yaml", policies, runs=200, seed=1)
tail.differences[tail.differences.metric.isin(["missed_regression_rate", "false_rollback_rate", "detection_time", "rollout_duration"])]
"""),
        code("""
shared = cs.compare("../scenarios/shared-dependency.yaml",
                    {"absolute SLO": None,
                     "relative": "../policies/presets/stepped-relative.yaml"}, runs=100, seed=1)
pd.DataFrame({name: {"false rollback rate": st.summary["false_rollback_rate"],
                     "promoted": st.summary["promoted"]} for name, st in shared.studies.items()})
"""),
        md("""
(`None` stands for the scenario's own policy, which checks an absolute 1 % error SLO.) The
absolute SLO rolls the innocent canary back in every run; the
relative checks see two equally hurt versions and let the rollout finish.
"""),
        code("""
plots.plot_detection_cdf(tail.studies)
plt.title("tail-latency: detection time by policy")
plt.tight_layout()
"""),
    ],
    "04-capacity-planning.ipynb": [
        md("""
# Sizing the canary pool

With continuous batching, TTFT includes queueing: a canary pool that is fine at 5 % can
saturate at 25 %. `saturation.yaml` caps the canary's autoscaler at 12 replicas; here we
vary the cap and look at outcomes, TTFT and cost.
"""),
        SETUP,
        code("""
base = cs.Scenario.load("../scenarios/saturation.yaml")
rows = []
for cap, lag in [(12, "30s"), (24, "30s"), (48, "30s"), (48, "0s")]:
    sc = base.copy().set("canary.batching.autoscale.max", cap).set("canary.batching.autoscale.lag", lag)
    s = cs.run(sc, runs=40, seed=1).summary
    rows.append({"max replicas": cap, "scale-up lag": lag, "rolled back": s["rolled_back"],
                 "promoted": s["promoted"], "decision p50 (min)": (s["detection_time_p50"] if s["rolled_back"] else s["rollout_duration_p50"]) / 60,
                 "canary replica-hours": s["canary_replica_hours_mean"], "cost per run": s["cost_mean"]})
pd.DataFrame(rows)
"""),
        md("""
The regression itself (iterations 8 % slower) is within the policy's tolerance, so a
canary with enough capacity is promoted (a "missed regression" in the summary, by design).
With a cap of 12 the queue at 25 % rolls it back. Raising the cap is not enough: at each
step up, the 30 s start-up lag leaves the canary with half the replicas it needs, the
queue spikes, and those failed analyses add up under the cumulative failure limit. Only a
pre-scaled pool (lag 0, as Argo's `setCanaryScale` arranges) gets through: a rollback
caused by capacity, which a capacity plan, not a better check, avoids. The timelines show where queueing starts:
"""),
        code("""
fig, axes = plt.subplots(2, 2, figsize=(12, 6), sharex="col")
for col, (cap, lag) in enumerate([(12, "30s"), (48, "0s")]):
    sc = base.copy().set("canary.batching.autoscale.max", cap).set("canary.batching.autoscale.lag", lag)
    t = cs.timeline(sc, run=0)
    plots.plot_timeline(t, sli="ttft_p50_s", axes=axes[:, col])
    axes[0, col].set_title(f"max {cap} replicas, lag {lag}: {t.attrs['outcome']}")
plt.tight_layout()
"""),
        md("""
## Your own service, from Prometheus

A study is only as good as its scenario. `canarysim fit prometheus` writes one from a
service's monitoring data: the request rate as a schedule, TTFT and inter-token latency as
the histograms themselves, the error ratio (`docs/fit.md` has the PromQL and `curl`
commands for vLLM and TGI). Here, the example exports of a six-hour window of a vLLM
service:
"""),
        code("""
import glob, os, subprocess, tempfile
exports = sorted(glob.glob("../scenarios/fitted-example/*.json"))
path = os.path.join(tempfile.mkdtemp(), "my-service.yaml")
subprocess.run([os.path.abspath("../build/canarysim"), "fit", "prometheus", *exports, "--name", "my-service",
                "--policy", os.path.abspath("../policies/presets/stepped.yaml"), "--out", path], check=True)
text = open(path).read()
print(chr(10).join(l for l in text.splitlines() if not l.startswith("    - {at")))
"""),
        md("""
The canary is identical to the baseline, so every rollback is a false one. This
service's TTFT is bimodal, and a p90 ratio judged on 100 samples is noisy: the stepped
preset, tuned on lognormal latencies, rolls back good releases here. The same question on
the fitted scenario tells which policy to trust with this service:
"""),
        code("""
rows = []
for p in ["stepped", "stepped-relative", "sequential", "kayenta"]:
    s = cs.run(path, f"../policies/presets/{p}.yaml", runs=40, seed=1).summary
    rows.append({"policy": p, "false rollback rate": s["false_rollback_rate"],
                 "95 % CI": "[%.2f, %.2f]" % (s["false_rollback_rate_low"], s["false_rollback_rate_high"]),
                 "rollout p50 (min)": s["rollout_duration_p50"] / 60})
pd.DataFrame(rows)
"""),
    ],
    "05-python-policy.ipynb": [
        md("""
# Writing a policy in Python

Subclass `cs.Policy`, set `interval`, `lookback` and `initial_weight`, and implement
`decide(observation)`. The same C++ runner drives it: the simulation runs without the GIL
and takes it only for `decide`, once per tick. Each run gets its own copy of the object.

This policy ramps in four steps and rolls back when the canary's error rate exceeds the
baseline's by more than a margin that shrinks as evidence accumulates (a simple
z-test on the difference of two proportions, at every tick).
"""),
        SETUP,
        code("""
import math

class ErrorZTest(cs.Policy):
    interval = 60.0
    lookback = 60.0
    initial_weight = 0.02
    steps = [0.02, 0.10, 0.30, 1.0]

    def __init__(self, z=4.0, bake=600.0):
        self.z, self.bake = z, bake
        self.step, self.started = 0, 0.0

    def decide(self, obs):
        c, b = obs.canary(self.lookback), obs.baseline(self.lookback)
        if c.requests >= 50 and b.requests >= 50:
            p = (c.errors + b.errors) / (c.requests + b.requests)
            se = math.sqrt(max(p * (1 - p), 1e-12) * (1 / c.requests + 1 / b.requests))
            z = (c.error_rate - b.error_rate) / se
            if z > self.z:
                return cs.Decision.rollback(f"error rate z = {z:.1f}", drain_s=30)
        if obs.now - self.started < self.bake:
            return cs.Decision.hold("baking")
        self.step += 1
        self.started = obs.now
        if self.steps[self.step] >= 1.0:
            return cs.Decision.promote("all steps passed")
        return cs.Decision.set_weight(self.steps[self.step], f"step {self.step + 1}")
"""),
        code("""
results = {}
for name, scenario in [("good release", "../scenarios/aa-null.yaml"), ("error spike", "../scenarios/error-spike.yaml")]:
    c = cs.compare(scenario, {"stepped preset": "../policies/presets/stepped.yaml", "python z-test": ErrorZTest()},
                   runs=100, seed=1)
    for policy, st in c.studies.items():
        s = st.summary
        results[(name, policy)] = {"rolled back": s["rolled_back"], "false rollbacks": s["false_rollbacks"],
                                   "detection p50 (s)": s["detection_time_p50"],
                                   "rollout p50 (min)": s["rollout_duration_p50"] / 60}
pd.DataFrame(results).T
"""),
        md("""
The z-test needs no hand-set absolute limit, and its threshold is in units of evidence.
It checks at every tick, though, so its false rollback rate is higher than a single
z-test's: a test that stays valid however often it looks is the `sequential` policy's job.
"""),
    ],
    "06-sweeps-tuning-power.ipynb": [
        md("""
# Sweeps, tuning and power

A **sweep** runs every point of a grid of scenario and policy fields on the same seeds and
stores every run in an SQLite results store; `cs.sweep` returns the summaries, one row per
point, and `cs.read_sweep` reads any store (also those that `canarysim sweep` wrote on a
batch cluster). Here: how the bake time of the `stepped` preset trades against the size of
an error regression present from the first request.
"""),
        SETUP,
        code("""
import os, tempfile
sweep_file = os.path.join(tempfile.mkdtemp(), "bake.yaml")
with open(sweep_file, "w") as f:
    f.write(f\"\"\"
name: bake-vs-errors
scenario: {os.path.abspath("../scenarios/error-spike.yaml")}
policy: {os.path.abspath("../policies/presets/stepped.yaml")}
runs: 60
seed: 1
grid:
  policy.bake_time: [2m, 5m, 10m]
  scenario.regressions[0].error_rate: [0.75%, 2%]
  scenario.regressions[0].onset: [0]
\"\"\")
db = sweep_file.replace(".yaml", ".db")
summaries = cs.sweep(sweep_file, db=db)
summaries[["policy.bake_time", "scenario.regressions[0].error_rate", "rolled_back", "runs",
           "detection_time_p50", "blast_radius_requests_mean"]]
"""),
        md("""
Swept values come back as numbers (durations in seconds, percentages as fractions), so
the summaries pivot and plot directly. Every run is in the store too:
"""),
        code("""
store = cs.read_sweep(db)
print(store.manifest["canarysim_version"], store.manifest["seed"], len(store.runs), "runs")
table = summaries.pivot(index="policy.bake_time", columns="scenario.regressions[0].error_rate",
                        values="blast_radius_requests_mean")
ax = table.rename(index=lambda s: f"{s / 60:g} min").plot(marker="o", logy=True)
ax.set_xlabel("bake time per step"); ax.set_ylabel("blast radius, mean requests");
"""),
        md("""
The same sweep spread over a Dask cluster returns the same DataFrame: each task runs one
shard into its own store and sends it back, and the shards are merged here. A local
cluster of two worker processes stands in for a real one.
"""),
        code("""
from distributed import Client, LocalCluster
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \\
        Client(cluster) as client:
    on_dask = cs.sweep(sweep_file, client=client, shards=4, threads=1)
pd.testing.assert_frame_equal(on_dask, summaries)
"same as the local sweep"
"""),
        md("""
## Power: the smallest regression a policy catches

`cs.power` runs a power study file: the share of runs that catch a regression at each
size (with its 95 % interval) and the smallest size caught in 90 % of runs, narrowed by
bisection after the grid.
"""),
        code("""
power_file = os.path.join(tempfile.mkdtemp(), "power.yaml")
with open(power_file, "w") as f:
    f.write(f\"\"\"
name: stepped-vs-errors
scenario: {os.path.abspath("../scenarios/error-spike.yaml")}
policy: {os.path.abspath("../policies/presets/stepped.yaml")}
field: regressions[0].error_rate
sizes: [0.5%, 1%, 2%, 5%]
runs: 60
refine: 2
\"\"\")
curve = cs.power(power_file)
print("smallest error rate caught in 90% of runs:", curve.attrs["threshold"])
ax = plt.figure().gca()
ax.errorbar(100 * curve["value"], 100 * curve["caught_rate"],
            yerr=[100 * (curve["caught_rate"] - curve["caught_rate_low"]), 100 * (curve["caught_rate_high"] - curve["caught_rate"])],
            marker="o")
ax.axhline(90, ls="--", color="red"); ax.set_xlabel("canary error rate (%)"); ax.set_ylabel("runs caught (%)");
"""),
        md("""
`cs.tune` runs a tuning file the same way (`results/studies/tune-stepped.yaml` is a full
one; it takes minutes): `tuning.candidates`, `tuning.pareto` and `tuning.chosen` are pandas
objects, and `tuning.report` is what `canarysim tune` prints.
"""),
    ],
}


def main():
    kernel = os.environ.get("CANARYSIM_KERNEL", "canarysim")
    only = set(sys.argv[1:])  # notebook names to rebuild; all by default
    for name, cells in NOTEBOOKS.items():
        if only and name not in only:
            continue
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "canarysim", "display_name": "Python (canarysim)", "language": "python"}
        NotebookClient(nb, timeout=900, kernel_name=kernel, resources={"metadata": {"path": HERE}}).execute()
        nbformat.write(nb, os.path.join(HERE, name))
        print("wrote", name, file=sys.stderr)


if __name__ == "__main__":
    main()
