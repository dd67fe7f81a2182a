"""Bad input raises ValueError or FileNotFoundError with the CLI's message, never a crash."""

import pytest

import canarysim as cs
from conftest import cli


@pytest.mark.parametrize("name", ["rate-not-a-rate", "unknown-key", "weights-decrease",
                                  "topology-cycle", "missing-policy-file"])
def test_bad_files_raise_with_the_clis_message(name):
    path = f"tests/data/bad/{name}.yaml"
    code, _, err = cli("validate", path)
    assert code == 2
    expected = err.strip().removeprefix("error: ")
    error = FileNotFoundError if name.startswith("missing") else ValueError
    with pytest.raises(error) as e:
        cs.Scenario.load(path) if "kind" not in open(path).read() else cs.run("scenarios/default.yaml", path, runs=1)
    assert str(e.value) == expected


def test_missing_files_raise_file_not_found():
    with pytest.raises(FileNotFoundError, match="no-such.yaml: no such file"):
        cs.Scenario.load("no-such.yaml")
    with pytest.raises(FileNotFoundError):
        cs.run("scenarios/default.yaml", "no-such-policy.yaml", runs=1)


def test_edited_fields_are_checked():
    sc = cs.Scenario.load("scenarios/default.yaml").set("traffic.rate", "fast")
    with pytest.raises(ValueError, match=r"default.yaml \(edited\):\d+:\d+: traffic.rate: expected a rate"):
        cs.run(sc, runs=1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="runs: expected at least 1"):
        cs.run("scenarios/default.yaml", runs=0)
    with pytest.raises(ValueError, match="policy: expected"):
        cs.run("scenarios/default.yaml", 42, runs=1)
    with pytest.raises(RuntimeError, match="ValueError: metric: unknown metric name 'nonsense'"):
        class Bad(cs.Policy):
            def decide(self, obs):
                obs.canary(60).metric("nonsense")
                return cs.Decision.hold()
        cs.run("scenarios/default.yaml", Bad(), runs=1)


def test_a_failing_python_policy_raises_instead_of_crashing():
    class Broken(cs.Policy):
        def decide(self, obs):
            raise KeyError("oops")

    with pytest.raises(RuntimeError, match="Python policy failed in decide"):
        cs.run("scenarios/default.yaml", Broken(), runs=4, threads=2)

    class WrongType(cs.Policy):
        def decide(self, obs):
            return "promote"

    with pytest.raises(RuntimeError, match="must return a canarysim.Decision"):
        cs.run("scenarios/default.yaml", WrongType(), runs=1)


def test_policy_attributes_are_checked():
    class NoInterval(cs.Policy):
        interval = 0

        def decide(self, obs):
            return cs.Decision.hold()

    with pytest.raises(ValueError, match="NoInterval.interval: expected a positive"):
        cs.run("scenarios/default.yaml", NoInterval(), runs=1)


def test_the_work_budget_refuses_a_study_and_can_be_raised():
    """A study whose runs are estimated above the budget is refused before it starts,
    naming what drives the cost (docs/input-contract.md)."""
    try:
        cs.set_max_events_per_run(1000)
        with pytest.raises(ValueError, match=r"above the budget of 1e\+03 per run \(traffic.rate"):
            cs.run("scenarios/aa-null.yaml", runs=2)
    finally:
        cs.set_max_events_per_run(2e8)
    assert len(cs.run("scenarios/aa-null.yaml", runs=2).runs) == 2
    with pytest.raises(ValueError, match="expected a positive number"):
        cs.set_max_events_per_run(0)
