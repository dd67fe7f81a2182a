"""Sweeps: the results store survives SIGKILL, shards merge to the one-machine sweep
(also through Dask), and bad shards are refused with a clear message."""

import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess

import pandas as pd
import pytest
import yaml

import canarysim as cs
from conftest import CLI, ROOT, cli, table

SCENARIO = os.path.join(ROOT, "scenarios", "error-spike.yaml")
POLICY = os.path.join(ROOT, "policies", "presets", "stepped.yaml")


def write_sweep(folder, runs=60, name="bake-vs-size", extra=""):
    path = os.path.join(folder, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"""name: {name}
scenario: {SCENARIO}
policy: {POLICY}
runs: {runs}
seed: 3
grid:
  policy.bake_time: [3m, 10m]
  scenario.regressions[0].error_rate: [1.5%, 5%]
{extra}""")
    return path


def execute(db, statement):
    """Changes a store behind canarysim's back, as a damaged or foreign file would be."""
    con = sqlite3.connect(db)
    try:
        con.execute(statement)
        con.commit()
    finally:
        con.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The sweep run once on one machine, without interruption."""
    folder = tmp_path_factory.mktemp("reference")
    sweep = write_sweep(str(folder), runs=150)
    db = os.path.join(folder, "one.db")
    code, out, err = cli("sweep", sweep, "--db", db, "--quiet")
    assert code == 0, err
    return sweep, db


def test_sweep_prints_a_table_and_stores_every_run(reference):
    sweep, db = reference
    assert len(table(db, "runs")) == 4 * 150
    assert len(table(db, "summaries")) == 4
    manifest = dict(table(db, "manifest"))
    assert manifest["seed"] == "3" and manifest["runs"] == "150" and manifest["shards"] == "1"
    assert "bake_time" in manifest["sweep"] and "kind: stepped" in manifest["policy"]
    assert manifest["canarysim_version"] == cs.__version__
    assert "--quiet" in manifest["command_line"]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_each_point_is_the_study_of_its_scenario_with_the_same_seeds(reference, tmp_path):
    """Run i of every point draws from the streams of (seed, i): a point's runs are those
    of `canarysim run` on its scenario and policy (common random numbers across points)."""
    sweep, db = reference
    con = sqlite3.connect(db)
    scenario, policy = con.execute("SELECT scenario, policy FROM points WHERE point = 1").fetchone()
    con.close()
    data = yaml.safe_load(scenario)
    data.pop("policy")
    assert data["regressions"][0]["error_rate"] == "5%"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "p.yaml").write_text(policy)
    code, out, err = cli("run", str(tmp_path / "s.yaml"), "--policy", str(tmp_path / "p.yaml"), "--runs", "150",
                         "--seed", "3", "--format", "csv", "-q")
    assert code == 0, err
    study = pd.read_csv(io.StringIO(out))
    runs = cs.read_sweep(db).runs
    point = runs[runs.point == 1].reset_index(drop=True)
    for column in ("outcome", "requests", "canary_requests", "blast_radius_requests", "events"):
        assert list(point[column]) == list(study[column]), column


def test_sigkill_at_random_moments_then_resume_gives_every_run_exactly_once(reference, tmp_path):
    sweep, one = reference
    db = str(tmp_path / "killed.db")
    rng = random.Random(20261126)
    kills, counts = 0, []
    for attempt in range(100):
        p = subprocess.Popen([CLI, "sweep", sweep, "--db", db, "--resume", "--quiet"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        try:
            p.wait(timeout=rng.uniform(0.05, 1.5))
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
            if os.path.exists(db):
                counts.append(len(table(db, "runs")))  # the store opens after every kill
            continue
        assert p.returncode == 0, p.stderr.read()
        break
    assert kills >= 3, "the sweep finished before it could be killed three times"
    assert counts == sorted(counts), "a kill lost committed runs"
    runs = table(db, "runs")
    assert len(runs) == 4 * 150
    assert len({(r[0], r[1]) for r in runs}) == 4 * 150  # every (point, run) once
    assert runs == table(one, "runs")
    assert table(db, "summaries") == table(one, "summaries")
    # A complete store resumed runs nothing.
    code, out, _ = cli("sweep", sweep, "--db", db, "--resume", "--quiet")
    assert code == 0 and "600 already stored, 0 run now" in out


@pytest.mark.parametrize("n", [3])
def test_shards_merge_to_the_one_machine_sweep(reference, tmp_path, n):
    sweep, one = reference
    parts = []
    for k in range(1, n + 1):
        db = str(tmp_path / f"s{k}.db")
        code, _, err = cli("sweep", sweep, "--shard", f"{k}/{n}", "--db", db, "--quiet", "--threads", "1")
        assert code == 0, err
        parts.append(db)
    merged = str(tmp_path / "merged.db")
    code, out, err = cli("merge", merged, *reversed(parts))
    assert code == 0, err
    for t in ("runs", "summaries", "points", "point_values", "fields"):
        assert table(merged, t) == table(one, t), t
    # The summaries read from both stores are the same DataFrame.
    pd.testing.assert_frame_equal(cs.read_sweep(merged).summaries, cs.read_sweep(one).summaries)


def test_merge_refuses_missing_overlapping_and_foreign_shards(reference, tmp_path):
    sweep, _ = reference
    s = {}
    for k in (1, 2):
        s[k] = str(tmp_path / f"s{k}.db")
        assert cli("sweep", sweep, "--shard", f"{k}/2", "--db", s[k], "-q")[0] == 0
    other_sweep = write_sweep(str(tmp_path), runs=20, name="other")
    other = str(tmp_path / "other.db")
    assert cli("sweep", other_sweep, "--shard", "2/2", "--db", other, "-q")[0] == 0
    code, _, err = cli("merge", str(tmp_path / "m1.db"), s[1])
    assert code == 2 and "missing shard 2/2 of sweep 'bake-vs-size'" in err
    code, _, err = cli("merge", str(tmp_path / "m2.db"), s[1], s[1])
    assert code == 2 and "overlaps" in err and "shard 1/2" in err
    code, _, err = cli("merge", str(tmp_path / "m3.db"), s[1], other)
    assert code == 2 and "from a different sweep" in err and "other" in err
    three = str(tmp_path / "s1of3.db")
    assert cli("sweep", sweep, "--shard", "1/3", "--db", three, "-q")[0] == 0
    code, _, err = cli("merge", str(tmp_path / "m4.db"), s[1], three)
    assert code == 2 and "3-way split" in err
    # A shard with runs missing (as a killed, unresumed task leaves it).
    execute(s[2], "DELETE FROM runs WHERE run < 3")
    code, _, err = cli("merge", str(tmp_path / "m5.db"), s[1], s[2])
    assert code == 2 and "incomplete" in err and "--resume" in err
    # A shard written by another version of canarysim.
    execute(s[1], "UPDATE manifest SET value = '0.0.9' WHERE key = 'canarysim_version'")
    code, _, err = cli("merge", str(tmp_path / "m6.db"), s[2], s[1])
    assert code == 2 and "written by canarysim 0.0.9" in err and "shards must come from one version" in err
    for m in ("m1", "m2", "m3", "m4", "m5", "m6"):
        assert not os.path.exists(tmp_path / f"{m}.db")  # nothing half-made


def test_resume_refuses_another_sweep_or_shard(reference, tmp_path):
    sweep, one = reference
    code, _, err = cli("sweep", sweep, "--db", one)
    assert code == 2 and "already exists" in err and "--resume" in err
    code, _, err = cli("sweep", sweep, "--db", one, "--resume", "--shard", "1/2")
    assert code == 2 and "holds shard 1/1, not 1/2" in err
    changed = write_sweep(str(tmp_path), runs=151)
    code, _, err = cli("sweep", changed, "--db", one, "--resume")
    assert code == 2 and "holds sweep 'bake-vs-size'" in err


@pytest.mark.parametrize("shard", ["0/2", "3/2", "1", "a/b"])
def test_bad_shard_argument(reference, shard):
    code, _, err = cli("sweep", reference[0], "--shard", shard, "--db", "/nonexistent/x.db")
    assert code == 2 and "--shard: expected K/N" in err


def test_export_csv_and_json_agree_with_the_reader(reference):
    _, db = reference
    code, out, _ = cli("export", db, "--format", "json")
    assert code == 0
    records = json.loads(out)
    summaries = cs.read_sweep(db).summaries
    assert [r["policy.bake_time"] for r in records] == [180, 180, 600, 600]
    assert [r["scenario.regressions[0].error_rate"] for r in records] == [0.015, 0.05, 0.015, 0.05]
    for r, (_, row) in zip(records, summaries.iterrows()):
        assert r["rolled_back"] == row["rolled_back"]
        assert r["blast_radius_requests_mean"] == pytest.approx(row["blast_radius_requests_mean"], rel=0, abs=0)
    code, out, _ = cli("export", db, "--table", "runs", "--format", "csv")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 1 + 600 and lines[0].startswith("point,label,policy.bake_time,")
    code, _, err = cli("export", "/nonexistent.db")
    assert code == 2 and "no such results store" in err
    code, _, err = cli("export", os.path.join(ROOT, "README.md"))
    assert code == 2 and "not a canarysim results store" in err


def test_python_sweep_locally_equals_the_cli(reference, tmp_path):
    sweep, one = reference
    db = str(tmp_path / "py.db")
    frame = cs.sweep(sweep, db=db, threads=2)
    pd.testing.assert_frame_equal(frame, cs.read_sweep(one).summaries)
    assert table(db, "runs") == table(one, "runs")


def test_python_sweep_on_a_dask_local_cluster_equals_the_local_sweep(reference):
    distributed = pytest.importorskip("distributed")
    sweep, one = reference
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        frame = cs.sweep(sweep, client=client, shards=4, threads=1)
    pd.testing.assert_frame_equal(frame, cs.read_sweep(one).summaries)


def test_bad_sweep_files_name_the_line_and_the_point(tmp_path):
    bad_value = write_sweep(str(tmp_path), runs=10, name="badvalue")
    with open(bad_value) as f:
        text = f.read().replace("[3m, 10m]", "[3m, soon]")
    with open(bad_value, "w") as f:
        f.write(text)
    code, _, err = cli("sweep", bad_value)
    assert code == 2
    assert ("badvalue.yaml:7:21: grid.policy.bake_time: point 2 (bake_time=soon, regressions[0].error_rate=1.5%): "
            "bake_time: expected a duration like '250ms', '90s', '15m' or '2h', got 'soon'") in err
    bad_path = str(tmp_path / "badpath.yaml")
    with open(bad_path, "w") as f:
        f.write(f"scenario: {SCENARIO}\ngrid:\n  scenario.regressions[3].error_rate: [1%]\n")
    code, _, err = cli("sweep", bad_path)
    assert code == 2 and "regressions[3]: no such list item (the list has 1)" in err
    neither = str(tmp_path / "neither.yaml")
    with open(neither, "w") as f:
        f.write(f"scenario: {SCENARIO}\ngrid:\n  bake_time: [1m]\n")
    code, _, err = cli("sweep", neither)
    assert code == 2 and "must start with 'scenario.' or 'policy.'" in err
    both = str(tmp_path / "both.yaml")
    with open(both, "w") as f:
        f.write(f"scenario: {SCENARIO}\ngrid:\n  policy.bake_time: [1m]\npoints:\n  - {{policy.bake_time: 1m}}\n")
    code, _, err = cli("sweep", both)
    assert code == 2 and "exactly one of grid, points or random" in err


def test_random_and_list_sweeps(tmp_path):
    path = str(tmp_path / "random.yaml")
    with open(path, "w") as f:
        f.write(f"""scenario: {SCENARIO}
runs: 5
random:
  samples: 6
  seed: 11
  fields:
    policy.bake_time: {{min: 1m, max: 20m, scale: log}}
    policy.failure_limit: {{min: 0, max: 3}}
    policy.steps: {{choices: [[5, 50], [1, 10, 50]]}}
""")
    db = str(tmp_path / "r.db")
    assert cli("sweep", path, "--db", db, "-q")[0] == 0
    points = cs.read_sweep(db).points
    assert len(points) == 6
    assert points["policy.bake_time"].between(60, 1200).all()
    assert set(points["policy.failure_limit"]) <= {0, 1, 2, 3}
    assert set(points["policy.steps"]) <= {"[5, 50]", "[1, 10, 50]"}
    # The same sampler seed draws the same points.
    db2 = str(tmp_path / "r2.db")
    assert cli("sweep", path, "--db", db2, "-q")[0] == 0
    assert table(db, "points") == table(db2, "points")
    listed = str(tmp_path / "list.yaml")
    with open(listed, "w") as f:
        f.write(f"scenario: {SCENARIO}\nruns: 3\npoints:\n  - {{policy.bake_time: 2m, policy.interval: 30s}}\n"
                "  - {policy.bake_time: 4m, policy.interval: 1m}\n")
    db3 = str(tmp_path / "l.db")
    code, out, err = cli("sweep", listed, "--db", db3, "-q")
    assert code == 0, err
    assert "bake_time=4m, interval=1m" in out


def test_progress_lines_when_not_a_terminal(tmp_path):
    sweep = write_sweep(str(tmp_path), runs=5, name="progress")
    p = subprocess.run([CLI, "sweep", sweep, "--db", str(tmp_path / "p.db"), "--progress"], capture_output=True,
                       text=True)
    assert p.returncode == 0
    assert "sweep progress: 4 points x 5 runs, shard 1/1" in p.stderr
    assert "20/20 runs" in p.stderr and "runs/s, ETA" in p.stderr
    # Without --progress, a batch log gets the header and no progress lines.
    q = subprocess.run([CLI, "sweep", sweep, "--db", str(tmp_path / "q.db")], capture_output=True, text=True)
    assert q.returncode == 0
    assert "sweep progress: 4 points x 5 runs" in q.stderr and "ETA" not in q.stderr


@pytest.mark.skipif(not shutil.which("script"), reason="needs script(1) from util-linux for a terminal")
def test_progress_bar_redrawn_in_place_on_a_terminal(tmp_path):
    sweep = write_sweep(str(tmp_path), runs=30, name="bar")

    def on_a_terminal(command):
        p = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True)
        return p.returncode, p.stdout.decode().replace("\r\n", "\n")  # bytes: keep lone carriage returns

    code, out = on_a_terminal(f"{CLI} sweep {sweep} --db {tmp_path / 'bar.db'}")
    assert code == 0, out
    assert "\r####################" in out  # the full bar, redrawn in place
    assert "120/120 runs" in out and "runs/s, ETA" in out
    code, out = on_a_terminal(f"{CLI} sweep {sweep} --db {tmp_path / 'quiet.db'} --quiet")
    assert code == 0 and "\r" not in out and "runs/s, ETA" not in out


def test_a_new_store_never_replays_a_deleted_stores_write_ahead_log(reference, tmp_path):
    """A -wal left behind by a deleted store holds another sweep's changes; a new store
    under the same name must not pick them up (issue 16)."""
    _, one = reference
    db = str(tmp_path / "s.db")
    shutil.copy(one, db)
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("DELETE FROM runs WHERE run < 100")
    con.commit()
    stale = str(tmp_path / "stale-wal")
    shutil.copy(db + "-wal", stale)
    con.close()
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(db + ext):
            os.remove(db + ext)
    shutil.copy(stale, db + "-wal")
    sweep = write_sweep(str(tmp_path), runs=150)
    code, out, err = cli("sweep", sweep, "--db", db, "--quiet")
    assert code == 0, err
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 4 * 150


def test_export_recomputes_summaries_a_store_lost_and_refuses_an_incomplete_one(reference, tmp_path):
    """A store whose writer died after its last run but before its summaries (a merge
    killed after its rename, in older versions) exports them recomputed; one missing runs
    says how to complete it."""
    sweep, one = reference
    db = str(tmp_path / "s.db")
    shutil.copy(one, db)
    code, expected, err = cli("export", one)
    assert code == 0, err
    execute(db, "DELETE FROM summaries")
    code, out, err = cli("export", db)
    assert code == 0, err
    assert out == expected
    execute(db, "DELETE FROM summaries")
    execute(db, "DELETE FROM runs WHERE run = 7")
    code, out, err = cli("export", db)
    assert code == 2
    assert "holds 596 of 600 runs and no summaries yet" in err and "--resume" in err, err


def test_a_foreign_manifest_value_is_an_input_error(reference, tmp_path):
    _, one = reference
    db = str(tmp_path / "s.db")
    shutil.copy(one, db)
    execute(db, "UPDATE manifest SET value = 'many' WHERE key = 'runs'")
    code, out, err = cli("export", db)
    assert code == 2
    assert "not a canarysim results store (manifest 'runs' is 'many', not a whole number)" in err, err
