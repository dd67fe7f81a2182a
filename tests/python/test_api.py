"""The Python API: loading, changing and running scenarios, results as DataFrames."""

import glob
import io
import json
import math
import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import canarysim as cs
from conftest import ROOT, cli


def test_load_change_and_run_a_scenario():
    sc = cs.Scenario.load("scenarios/error-spike.yaml")
    assert sc.get("traffic.rate") == "200/s"
    sc.set("regressions.0.error_rate", "5%")
    study = cs.run(sc, runs=20, seed=3)
    assert len(study.runs) == 20
    assert study.summary["rolled_back"] == 20


def test_scenarios_from_yaml_and_dicts():
    text = open("scenarios/default.yaml").read()
    a = cs.run(cs.Scenario.from_yaml(text, "scenarios/default.yaml"), runs=10)
    b = cs.run("scenarios/default.yaml", runs=10)
    assert a.hash == b.hash  # same scenario, same seed, same results
    d = cs.Scenario.load("scenarios/default.yaml").data
    c = cs.run(cs.Scenario.from_dict(d, base_dir="scenarios"), runs=10)
    assert c.hash == b.hash


def test_runs_frame_has_typed_numpy_columns():
    study = cs.run("scenarios/error-spike.yaml", runs=30)
    f = study.runs
    assert list(f.columns[:3]) == ["run", "outcome", "regression_active"]
    assert f["run"].dtype == np.int64
    assert isinstance(f["outcome"].dtype, pd.CategoricalDtype)
    assert list(f["outcome"].cat.categories) == ["promoted", "rolled_back", "unfinished"]
    assert f["regression_active"].dtype == bool
    for c in ("decision_time_s", "detection_time_s", "time_to_mitigate_s", "rollout_duration_s",
              "baseline_cost", "canary_cost"):
        assert f[c].dtype == np.float64, c
    for c in ("blast_radius_requests", "blast_radius_users", "requests", "events"):
        assert f[c].dtype == np.int64, c
    assert len(study.reasons) == 30


def test_fleet_outcomes_reach_the_frames():
    # A fleet with a queue bound and a timeout, far too small for its traffic: failures of
    # each kind, preemptions and GPU-hours per run, in typed columns and in the summary.
    scenario = """
horizon: 5m
traffic: {rate: 200/s}
baseline:
  batching: {iteration: {base: 30ms, per_prefill_token: 90us, per_decoding_sequence: 320us},
             replicas: 4, gpus: 8, kv_cache: {tokens: 20000}}
  timeout: 30s
  max_queue: 500
canary: {}
policy: {kind: stepped, steps: [50], bake_time: 10m, checks: [{metric: ttft_p50, max: 1h}]}
"""
    import yaml
    study = cs.run(yaml.safe_load(scenario), runs=2)
    f = study.runs
    for c in ("baseline_failed_requests", "canary_failed_requests", "timed_out_requests",
              "rejected_requests", "abandoned_requests", "preemptions"):
        assert f[c].dtype == np.int64, c
    assert f["gpu_hours"].dtype == np.float64
    assert (f["rejected_requests"] > 0).all() and (f["timed_out_requests"] > 0).all()
    assert (f["failed_requests"] == f["baseline_failed_requests"] + f["canary_failed_requests"]).all()
    assert np.allclose(f["gpu_hours"], (f["baseline_replica_seconds"] + f["canary_replica_seconds"]) * 8 / 3600)
    assert study.summary["rejected_requests_mean"] == f["rejected_requests"].mean()
    assert "gpu_hours" in study.summary_frame().index


def test_summary_is_a_plain_dict_and_a_frame():
    s = cs.run("scenarios/error-spike.yaml", runs=30).summary
    assert isinstance(s, dict)
    assert 0 <= s["false_rollback_rate_low"] <= s["false_rollback_rate"] <= s["false_rollback_rate_high"] <= 1
    assert s["detection_time_count"] == s["rolled_back"] and isinstance(s["detection_time_count"], int)
    frame = cs.run("scenarios/error-spike.yaml", runs=30).summary_frame()
    assert list(frame.columns) == ["count", "mean", "p50", "p90", "p99"]
    assert frame.loc["detection_time", "p50"] == s["detection_time_p50"]


def test_summary_names_are_the_clis_and_the_stores():
    code, out, _ = cli("run", "scenarios/error-spike.yaml", "--runs", "12", "--format", "json", "--quiet")
    assert code == 0
    from_cli = json.loads(out)["summary"]
    s = cs.run("scenarios/error-spike.yaml", runs=12).summary
    table = [k for k in from_cli if k not in ("segments", "events", "wall_s", "events_per_s", "threads")]
    assert table == [k for k in s if k not in ("segment_blast_requests_mean", "segment_blast_users_mean", "events",
                                             "wall_s", "events_per_s", "threads")]
    for k in table:
        assert (from_cli[k] is None and np.isnan(s[k])) or from_cli[k] == pytest.approx(s[k], rel=1e-12), k


def test_the_old_spellings_answer_with_a_warning_until_0_3():
    study = cs.run("scenarios/error-spike.yaml", runs=20)
    s = study.summary
    with pytest.warns(FutureWarning, match="detection_time_s.*detection_time_p50"):
        assert s["detection_time_s"]["p50"] == s["detection_time_p50"]
    with pytest.warns(FutureWarning, match="false_rollback_rate_ci95"):
        assert s["false_rollback_rate_ci95"] == (s["false_rollback_rate_low"], s["false_rollback_rate_high"])
    with pytest.warns(FutureWarning, match="'detection_time_s_p90'.*'detection_time_p90'"):
        assert s["detection_time_s_p90"] == s["detection_time_p90"]
    with pytest.warns(FutureWarning, match="'false_rollback_high'.*'false_rollback_rate_high'"):
        assert s["false_rollback_high"] == s["false_rollback_rate_high"]
    with pytest.raises(KeyError):
        s["no_such_metric"]
    c = cs.compare("scenarios/error-spike.yaml", [None, "policies/presets/sequential.yaml"], runs=10)
    with pytest.warns(FutureWarning, match="ci95_low"):
        assert (c.differences["ci95_low"].fillna(-1) == c.differences["mean_difference_low"].fillna(-1)).all()


def test_results_are_identical_to_the_clis_for_the_same_seed():
    code, out, _ = cli("run", "scenarios/error-spike.yaml", "--runs", "25", "--seed", "9",
                       "--format", "csv", "--quiet")
    assert code == 0
    from_cli = pd.read_csv(io.StringIO(out))
    from_python = cs.run("scenarios/error-spike.yaml", runs=25, seed=9).runs
    for c in ("run", "blast_radius_requests", "blast_radius_users", "requests", "events"):
        assert (from_cli[c].to_numpy() == from_python[c].to_numpy()).all(), c
    for c in ("decision_time_s", "detection_time_s", "time_to_mitigate_s"):
        np.testing.assert_array_equal(from_cli[c].to_numpy(), from_python[c].to_numpy())
    assert list(from_cli["outcome"]) == list(from_python["outcome"].astype(str))


def test_same_results_whatever_the_thread_count():
    one = cs.run("scenarios/default.yaml", runs=16, threads=1)
    four = cs.run("scenarios/default.yaml", runs=16, threads=4)
    assert one.hash == four.hash


def test_policy_arguments_files_strings_and_dicts():
    base = cs.run("scenarios/error-spike.yaml", "policies/presets/stepped.yaml", runs=10)
    text = open("policies/presets/stepped.yaml").read()
    as_text = cs.run("scenarios/error-spike.yaml", text, runs=10)
    import yaml
    as_dict = cs.run("scenarios/error-spike.yaml", yaml.safe_load(text), runs=10)
    assert base.hash == as_text.hash == as_dict.hash


def test_compare_pairs_policies_on_the_same_runs():
    c = cs.compare("scenarios/tail-latency.yaml",
                   {"p90": "policies/presets/stepped.yaml", "p99": "policies/presets/stepped-p99.yaml"},
                   runs=60, seed=2)
    assert set(c.studies) == {"p90", "p99"}
    row = c.differences.set_index("metric").loc["missed_regression_rate"]
    assert row["policy"] == "p99" and row["against"] == "p90"
    assert row["mean_difference"] < -0.5  # p99 misses far fewer tail regressions
    assert row["mean_difference_high"] < 0


def test_timeline_frame():
    t = cs.timeline("scenarios/default.yaml", run=0, seed=1)
    assert t["time_s"].iloc[0] == 0
    assert {"weight", "action", "reason", "canary_ttft_p99_s", "baseline_requests"} <= set(t.columns)
    assert t.attrs["outcome"] == "rolled_back"
    assert t["action"].iloc[-1] == "drained"


def test_tradeoff_curve():
    f = cs.tradeoff("scenarios/aa-null.yaml", "scenarios/default.yaml",
                    "policies/presets/stepped.yaml", "checks.1.max_ratio", [1.1, 1.4], runs=20)
    assert list(f["value"]) == [1.1, 1.4]
    # A looser threshold detects later (or not at all) and rolls back good releases less.
    assert f["false_rollback_rate"].iloc[0] >= f["false_rollback_rate"].iloc[1]
    assert f["detection_rate"].iloc[0] >= f["detection_rate"].iloc[1]


def test_version_and_kinds():
    assert cs.__version__ == "0.2.0"
    assert "stepped" in cs.policy_kinds()
    assert cs.validate("scenarios/default.yaml").endswith("with policy stepped")


def test_progress_and_fidelity_from_python(capsys):
    # A study of over 2 s shows progress on stderr; progress=False shows none.
    scaled = cs.Scenario.load("scenarios/production.yaml")
    scaled.set("fidelity", {"mode": "scaled", "check": 0})  # the check: the test below
    study = cs.run(scaled, runs=80, threads=1)  # about 5 s: progress shows after 2 s
    assert "runs/s, ETA" in capsys.readouterr().err
    assert study.summary["rolled_back"] == 80  # the slow canary is caught at 25 % in scaled mode too
    cs.run(scaled, runs=30, threads=1, progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(ValueError, match="weighs evidence by request counts"):
        cs.run(scaled, "policies/presets/sequential.yaml", runs=2)


def test_what_the_cli_warns_before_a_study_python_warns_too(tmp_path):
    # A rate too low for the checks' windows: the CLI's warning lines, as ScenarioWarning,
    # from run, compare and timeline alike; none for a scenario with nothing to doubt.
    low = cs.Scenario.load("scenarios/error-spike.yaml").set("traffic.rate", "0.05/s")
    with pytest.warns(cs.ScenarioWarning, match=r"checks\[0\] \(error-rate\): at the first canary share \(1 %\) and "
                                                r"the scenario's rate \(0.05/s\), its 60s window holds about 0.03"):
        study = cs.run(low, runs=3, progress=False)
    assert study.summary["unfinished"] == 3  # why: no check ever had its evidence
    # compare says each policy's doubt as the CLI does: with the policy it is about.
    with pytest.warns(cs.ScenarioWarning) as said:
        cs.compare(low, {"own": None, "flagger": "policies/presets/flagger.yaml"}, runs=2, progress=False)
    lines = [str(w.message) for w in said]
    assert any("scenarios/error-spike.yaml (edited): own: checks[0] (error-rate): " in line for line in lines), lines
    assert any(": flagger: " in line and "window holds about" in line for line in lines), lines
    assert all(w.filename == __file__ for w in said)
    with pytest.warns(cs.ScenarioWarning, match="window holds about"):
        cs.timeline(low)
    sweep = tmp_path / "rates.yaml"
    sweep.write_text(f"name: rates\nscenario: {ROOT}/scenarios/error-spike.yaml\nruns: 2\n"
                     "grid:\n  scenario.traffic.rate: [0.05/s, 200/s]\n")
    with pytest.warns(cs.ScenarioWarning, match=r"1 of 2 points \(the first: traffic.rate=0.05/s\)"):
        cs.sweep(sweep, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cs.run("scenarios/error-spike.yaml", runs=2, progress=False)


def test_a_scaled_study_checks_its_figures_and_warns_when_they_move():
    # A TTFT regression of x1.4 judged against max_ratio 1.3 from 1 user in 20: the thin
    # sample's p90 crosses the threshold early, and 20 runs at 1 in 6 show the figures move
    # (the C++ FidelityTest has the same case, with its standard errors).
    scenario = cs.Scenario.load("tests/data/fidelity/near-threshold.yaml")
    scenario.set("fidelity", {"mode": "scaled", "replicas": 3})
    with pytest.warns(cs.FidelityWarning, match="not converged"):
        study = cs.run(scenario, runs=100, seed=3, progress=False)
    check = study.fidelity_check
    assert check["moved"] and check["sample"] == 20 and check["finer_sample"] == 6 and check["finer_runs"] == 20
    moved = {f["name"] for f in check["figures"] if f["moved"]}
    assert "blast radius (requests) mean" in moved
    blast = next(f for f in check["figures"] if f["name"] == "blast radius (requests) mean")
    assert blast["finer"] > blast["value"]  # the thin sample understates it
    # Each study of a comparison gets its own check; none for an exact study.
    with pytest.warns(cs.FidelityWarning) as said:
        both = cs.compare(scenario, [None, None], runs=100, seed=3, progress=False)
    assert all(s.fidelity_check["moved"] for s in both.studies.values())
    # Each names its policy and points at the caller's line, not into canarysim.
    assert sorted(str(w.message)[:26] for w in said) == ["fidelity check (policy0): ", "fidelity check (policy1): "]
    assert all(w.filename == __file__ for w in said)
    scenario.set("fidelity", "exact")
    assert cs.run(scenario, runs=4, progress=False).fidelity_check is None


def test_an_interrupt_stops_a_study_and_raises_keyboard_interrupt(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    script = tmp_path / "long.py"
    script.write_text(
        # Python leaves SIGINT ignored when its parent started it so (a background job in a
        # non-interactive shell, as CI runners may): restore Python's own handler.
        "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "import canarysim as cs, time\n"
        "sc = cs.Scenario.load('scenarios/production.yaml')\n"
        "sc.set('fidelity', 'scaled')\n"
        "print('started', flush=True)\n"
        "try:\n"
        "    cs.run(sc, runs=100000, threads=2, progress=False)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n")
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()  # "started": the study is about to run
        assert line.strip() == "started"
        time.sleep(2)
        p.send_signal(signal.SIGINT)
        start = time.monotonic()
        out, _ = p.communicate(timeout=60)
        assert "interrupted" in out
        assert time.monotonic() - start < 10  # the running runs finish, no more start
    finally:
        p.kill()


def test_paths_take_both_list_spellings():
    sc = cs.Scenario.load("scenarios/error-spike.yaml")
    assert sc.get("regressions[0].error_rate") == sc.get("regressions.0.error_rate")
    sc.set("regressions[0].error_rate", "7%")
    assert sc.get("regressions.0.error_rate") == "7%"
    with pytest.raises(ValueError, match="is not a path"):
        sc.get("")


def test_the_results_scripts_read_summary_names_that_exist():
    # results/*.py and *.sh regenerate the committed tables from the CLI's JSON and the
    # API's summary; a renamed figure there fails only when someone reruns them.
    code, out, _ = cli("run", "scenarios/error-spike.yaml", "--runs", "4", "--format", "json", "--quiet")
    assert code == 0
    names = set(json.loads(out)["summary"])
    figure = re.compile(r"""\[['"]([a-z_0-9]+_(?:p50|p90|p99|mean|count|low|high|ci95))['"]\]""")
    read = {}
    for path in glob.glob(os.path.join(ROOT, "results", "*.py")) + glob.glob(os.path.join(ROOT, "results", "*.sh")):
        for key in figure.findall(open(path).read()):
            read.setdefault(key, os.path.basename(path))
    assert read, "no summary figure found in the results scripts"
    assert {k: f for k, f in read.items() if k not in names} == {}
