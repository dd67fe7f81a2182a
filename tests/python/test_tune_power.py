"""canarysim tune and canarysim power, end to end through the CLI, checked against plain
studies of the same scenarios and seeds."""

import csv
import json
import os
import xml.etree.ElementTree as ET

import pytest
import yaml

from conftest import ROOT, cli, rendered

SCENARIOS = os.path.join(ROOT, "scenarios")
STEPPED = os.path.join(ROOT, "policies", "presets", "stepped.yaml")


def study(scenario, policy, runs, seed, tmp_path, name):
    """`canarysim run` of a scenario (dict) and policy (dict): the JSON summary."""
    s, p = tmp_path / f"{name}.scenario.yaml", tmp_path / f"{name}.policy.yaml"
    scenario = dict(scenario)
    scenario.pop("policy", None)
    s.write_text(yaml.safe_dump(scenario))
    p.write_text(yaml.safe_dump(policy))
    code, out, err = cli("run", str(s), "--policy", str(p), "--runs", str(runs), "--seed", str(seed),
                         "--format", "json", "-q")
    assert code == 0, err
    return json.loads(out)["summary"]


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def power(tmp_path_factory):
    folder = tmp_path_factory.mktemp("power")
    spec = folder / "power.yaml"
    spec.write_text(f"""name: stepped against errors
scenario: {SCENARIOS}/error-spike.yaml
policy: {STEPPED}
field: regressions[0].error_rate
sizes: [0.3%, 1%, 3%]
target: 90%
runs: 120
seed: 4
refine: 3
""")
    code, out, err = cli("power", str(spec), "--out", str(folder / "out"), "-q")
    assert code == 0, err
    with open(folder / "out" / "power.csv") as f:
        rows = list(csv.DictReader(f))
    return folder, out, rows


def test_power_finds_the_smallest_size_caught_in_90_percent(power):
    folder, out, rows = power
    values = [float(r["value"]) for r in rows]
    assert values == sorted(values) and len(rows) == 3 + 3  # the grid and three bisections
    rates = [float(r["caught_rate"]) for r in rows]
    [threshold] = [i for i, r in enumerate(rows) if r["threshold"] == "1"]
    assert rates[threshold] >= 0.9 and rates[threshold - 1] < 0.9
    assert all(rate < 0.9 for rate in rates[:threshold])
    assert f"smallest size caught in 90% of runs: {rows[threshold]['size']}" in out
    # The bisection narrowed the bracket [0.3%, 1%] three times: to an eighth of it.
    assert values[threshold] - values[threshold - 1] == pytest.approx(0.007 / 8)
    ET.parse(folder / "out" / "power.svg")  # well-formed


def test_power_curve_rises_with_the_size(power):
    """On common random numbers a larger error rate is caught at least as often, up to a
    few runs whose trajectory a larger regression changes (2 of 120 allowed)."""
    rates = [float(r["caught_rate"]) for r in power[2]]
    for smaller, larger in zip(rates, rates[1:]):
        assert larger >= smaller - 2 / 120


def test_power_figures_are_those_of_a_plain_study(power, tmp_path):
    row = next(r for r in power[2] if r["size"] == "1%")
    scenario = load(os.path.join(SCENARIOS, "error-spike.yaml"))
    scenario["regressions"][0]["error_rate"] = "1%"
    summary = study(scenario, load(STEPPED), 120, 4, tmp_path, "one-percent")
    assert int(row["caught"]) == summary["detection_time_count"]
    assert float(row["detection_time_p50"]) == summary["detection_time_p50"]


TUNE = """name: tune test
policy: {stepped}
parameters:
  bake_time: {{min: 2m, max: 12m}}
  failure_limit: {{min: 0, max: 3}}
scenarios:
  - {{scenario: {scenarios}/aa-null.yaml, weight: 2}}
  - scenario: {scenarios}/error-spike.yaml
    set:
      regressions[0].onset: 0
objective: blast_radius_requests_mean
constraints:
  false_rollback_rate: {frr}
  rollout_duration_p50: {rollout}
search: {{candidates: 6, min_runs: 10, max_runs: 30, eta: 3, seed: 2}}
seed: 3
"""


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tune")
    spec = folder / "tune.yaml"
    spec.write_text(TUNE.format(stepped=STEPPED, scenarios=SCENARIOS, frr="5%", rollout="2h"))
    code, out, err = cli("tune", str(spec), "--out", str(folder / "out"), "-q")
    assert code == 0, err
    with open(folder / "out" / "candidates.csv") as f:
        candidates = list(csv.DictReader(f))
    with open(folder / "out" / "pareto.csv") as f:
        front = list(csv.DictReader(f))
    return folder, out, candidates, front


def test_tune_chooses_the_best_feasible_candidate_of_the_last_rung(tuned):
    _, out, candidates, _ = tuned
    assert len(candidates) == 6
    assert candidates[0]["bake_time"] == "10m" and candidates[0]["failure_limit"] == "2"  # as written
    [chosen] = [c for c in candidates if c["chosen"] == "1"]
    last = [c for c in candidates if c["runs"] == "30" and c["feasible"] == "1"]
    assert chosen["feasible"] == "1" and chosen["runs"] == "30"
    assert float(chosen["blast_radius_requests_mean"]) == min(float(c["blast_radius_requests_mean"]) for c in last)
    assert "successive halving: 6 x 10 runs, 2 x 30 runs" in out
    assert f"chosen: candidate {chosen['candidate']}" in out
    assert "95% intervals" in out


def test_tune_pareto_front_is_exactly_the_non_dominated_candidates(tuned):
    _, _, candidates, front = tuned
    metrics = ["blast_radius_requests_mean", "false_rollback_rate", "rollout_duration_p50"]

    def vector(c):
        return [float(c[m]) if c[m] else float("inf") for m in metrics]

    def dominates(a, b):
        return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))

    on_front = {c["candidate"] for c in front}
    for c in candidates:
        dominated = any(dominates(vector(o), vector(c)) for o in candidates if o is not c)
        assert dominated == (c["candidate"] not in on_front), c["candidate"]
    ET.parse(tuned[0] / "out" / "pareto.svg")


def test_tune_figures_are_the_weighted_mix_of_plain_studies(tuned, tmp_path):
    _, _, candidates, _ = tuned
    [chosen] = [c for c in candidates if c["chosen"] == "1"]
    policy = load(STEPPED)
    policy["bake_time"] = chosen["bake_time"]
    policy["failure_limit"] = int(chosen["failure_limit"])
    good = study(load(os.path.join(SCENARIOS, "aa-null.yaml")), policy, 30, 3, tmp_path, "good")
    bad_scenario = load(os.path.join(SCENARIOS, "error-spike.yaml"))
    bad_scenario["regressions"][0]["onset"] = 0
    bad = study(bad_scenario, policy, 30, 3, tmp_path, "bad")
    frr = (2 * good["false_rollback_rate"] + 1 * bad["false_rollback_rate"]) / 3
    assert float(chosen["false_rollback_rate"]) == pytest.approx(frr, rel=1e-12, abs=1e-15)
    # Blast radius applies only where a regression starts: the bad scenario alone.
    assert float(chosen["blast_radius_requests_mean"]) == pytest.approx(bad["blast_radius_requests_mean"], rel=1e-12)


def test_tune_exits_3_when_no_candidate_meets_the_constraints(tmp_path):
    spec = tmp_path / "impossible.yaml"
    spec.write_text(TUNE.format(stepped=STEPPED, scenarios=SCENARIOS, frr="5%", rollout="1m"))
    code, out, _ = cli("tune", str(spec), "--out", str(tmp_path / "out"), "-q")
    assert code == 3
    assert "no candidate met every constraint; the closest: candidate" in out


def test_python_power_and_tune_return_the_clis_figures(power, tuned):
    import canarysim as cs

    frame = cs.power(power[0] / "power.yaml", threads=2)
    assert list(frame["size"]) == [r["size"] for r in power[2]]
    assert list(frame["caught"]) == [int(r["caught"]) for r in power[2]]
    assert frame.attrs["threshold"] == next(r["size"] for r in power[2] if r["threshold"] == "1")
    assert "smallest size caught" in frame.attrs["report"]

    tuning = cs.tune(tuned[0] / "tune.yaml", threads=2)
    [chosen] = [c for c in tuned[2] if c["chosen"] == "1"]
    assert tuning.found and tuning.chosen["candidate"] == int(chosen["candidate"])
    assert tuning.chosen["bake_time"] == chosen["bake_time"]
    assert sorted(tuning.pareto["candidate"]) == sorted(int(c["candidate"]) for c in tuned[3])
    assert tuning.objective == "blast_radius_requests_mean"


def test_tune_with_confidence_judges_rate_constraints_on_their_upper_bounds(tmp_path):
    spec = tmp_path / "confident.yaml"
    spec.write_text(TUNE.format(stepped=STEPPED, scenarios=SCENARIOS, frr="15%", rollout="2h")
                    + "confidence: 95%\n")
    code, out, err = cli("tune", str(spec), "--out", str(tmp_path / "out"), "-q")
    assert code in (0, 3), err
    with open(tmp_path / "out" / "candidates.csv") as f:
        rows = list(csv.DictReader(f))
    for c in rows:
        upper, rollout = float(c["false_rollback_rate_upper95"]), c["rollout_duration_p50"]
        meets = upper <= 0.15 and rollout != "" and float(rollout) <= 7200
        assert (c["feasible"] == "1") == meets, c["candidate"]
        # The 95% upper bound of a rate is above the estimate (Wilson, 0 < n).
        assert upper > float(c["false_rollback_rate"])


def test_the_tune_and_power_folders_have_their_pages(tuned, power, tmp_path):
    folder = tuned[0] / "out"
    assert (folder / "input.yaml").read_text() == (tuned[0] / "tune.yaml").read_text()
    assert (folder / "summary.txt").read_text() in tuned[1]
    dom = rendered(folder / "report.html")
    for text in ("canarysim tuning: out", "pareto.csv", "candidates.csv", "name: tune test", "objective",
                 "kind: stepped", "name: aa-null", "name: error-spike"):  # the files it names, as run
        assert text in dom, text
    assert dom.count("<svg") == 1
    pfolder = power[0] / "out"
    dom = rendered(pfolder / "report.html")
    for text in ("canarysim power study: out", "power.csv", "caught_rate_low", "name: stepped against errors",
                 "name: error-spike", "kind: stepped"):
        assert text in dom, text
    assert dom.count("<svg") == 1
    # `canarysim report` writes the same page again, anywhere.
    code, _, err = cli("report", str(pfolder), "--out", str(tmp_path / "p.html"))
    assert code == 0, err
    assert (tmp_path / "p.html").read_text() == (pfolder / "report.html").read_text()
