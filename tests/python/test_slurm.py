"""The Slurm recipe for real: a one-node cluster on this machine (munge, slurmctld,
slurmd), the sweep submitted as an array of shards with a dependent merge job, and the
merged store compared with the sweep run on one machine."""

import os
import shutil
import subprocess
import time

import pytest

from conftest import CLI, ROOT, cli, table

CLUSTER = os.path.join(ROOT, "tests", "slurm", "cluster.sh")
SUBMIT = os.path.join(ROOT, "docs", "slurm", "submit.sh")


def why_not():
    if os.geteuid() != 0:
        return "starting slurmctld and slurmd needs root"
    for tool in ("slurmctld", "slurmd", "sbatch", "munged"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            return f"{tool} is not installed (Debian packages slurm-wlm and munge; `make deps` installs them)"
    return None


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    reason = why_not()
    if reason:
        pytest.skip(f"Slurm test skipped: {reason}")
    folder = tmp_path_factory.mktemp("slurm")
    env = dict(os.environ, SLURM_CONF=str(folder / "slurm.conf"), CANARYSIM=CLI)
    start = subprocess.run([CLUSTER, "start", str(folder)], capture_output=True, text=True, env=env)
    assert start.returncode == 0, start.stderr
    yield folder, env
    subprocess.run([CLUSTER, "stop", str(folder)], env=env)


def job_state(job, env):
    out = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True, env=env).stdout
    for word in out.split():
        if word.startswith("JobState="):
            return word.split("=", 1)[1]
    return "UNKNOWN"


def test_sharded_sweep_through_slurm_equals_the_one_machine_sweep(slurm, tmp_path):
    folder, env = slurm
    sweep = tmp_path / "slurm-sweep.yaml"
    sweep.write_text(f"""name: slurm
scenario: {ROOT}/scenarios/error-spike.yaml
policy: {ROOT}/policies/presets/stepped.yaml
runs: 40
seed: 5
grid:
  policy.failure_limit: [0, 2]
  scenario.regressions[0].error_rate: [1.5%, 5%]
""")
    one = str(tmp_path / "one.db")
    assert cli("sweep", str(sweep), "--db", one, "-q")[0] == 0

    out = tmp_path / "out"
    submit = subprocess.run([SUBMIT, str(sweep), "4", str(out)], capture_output=True, text=True, env=env)
    assert submit.returncode == 0, submit.stderr
    merge_job = submit.stdout.strip()
    deadline = time.time() + 300
    while (state := job_state(merge_job, env)) not in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"):
        assert time.time() < deadline, f"merge job {merge_job} still {state} after 300 s"
        time.sleep(1)
    logs = "".join(p.read_text() for p in sorted(out.glob("*.out")))
    assert state == "COMPLETED", logs
    assert sorted(p.name for p in out.glob("shard-*.db")) == [f"shard-{k}-of-4.db" for k in range(1, 5)]
    assert "merged 4 shards" in logs
    merged = str(out / "merged.db")
    for name in ("runs", "summaries", "points", "point_values", "fields"):
        assert table(merged, name) == table(one, name), name
