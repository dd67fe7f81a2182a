"""Policies written in Python, driven by the same runner as the C++ ones."""

import pandas as pd

import canarysim as cs

STEPPED = """
kind: stepped
steps: [1, 5, 10, 25, 50, 100]
bake_time: 10m
interval: 1m
failure_limit: 2
rollback_drain: 30s
checks: [{metric: error_rate, max: 1%}]
"""


class SteppedTwin(cs.Policy):
    """The rules of policies/stepped.cpp with a single error-rate check, in Python."""

    interval = 60.0
    lookback = 60.0
    steps = [0.01, 0.05, 0.10, 0.25, 0.50, 1.0]
    initial_weight = 0.01

    def __init__(self):
        self.step = 0
        self.started = 0.0
        self.failures = 0

    def decide(self, obs):
        c = obs.canary(self.interval)
        if c.requests >= 1 and c.error_rate > 0.01:
            self.failures += 1
            if self.failures > 2:
                return cs.Decision.rollback("errors", 30.0)
            return cs.Decision.hold("failed")
        if c.requests < 1:
            return cs.Decision.hold("waiting")
        if obs.now - self.started < 600 - 1e-9:
            return cs.Decision.hold("baking")
        self.step += 1
        self.started = obs.now
        if self.step >= len(self.steps) or self.steps[self.step] >= 1.0:
            return cs.Decision.promote("done")
        return cs.Decision.set_weight(self.steps[self.step], "next")


def test_a_python_policy_behaves_like_its_cpp_twin():
    for scenario in ("scenarios/error-spike.yaml", "scenarios/aa-null.yaml"):
        cpp = cs.run(scenario, STEPPED, runs=12, seed=5).runs
        py = cs.run(scenario, SteppedTwin(), runs=12, seed=5, threads=2).runs
        pd.testing.assert_frame_equal(cpp, py)


def test_each_run_gets_a_fresh_copy_of_the_policy():
    class Counter(cs.Policy):
        interval = 60.0
        lookback = 60.0
        initial_weight = 0.05

        def __init__(self):
            self.ticks = 0

        def decide(self, obs):
            self.ticks += 1
            if self.ticks == 3:
                return cs.Decision.rollback("third tick")
            return cs.Decision.hold()

    runs = cs.run("scenarios/aa-null.yaml", Counter(), runs=6).runs
    assert (runs["decision_time_s"] == 180).all()  # every run starts counting at zero


def test_observation_exposes_metrics_by_name():
    seen = {}

    class Probe(cs.Policy):
        interval = 120.0
        lookback = 120.0
        initial_weight = 0.5

        def decide(self, obs):
            c, b = obs.canary(120), obs.baseline(120)
            seen.update(now=obs.now, weight=obs.weight, ttft=c.metric("ttft_p99"),
                        base=b.metric("ttft_p99"), requests=c.requests)
            return cs.Decision.promote("seen")

    cs.run("scenarios/default.yaml", Probe(), runs=1)
    assert seen["now"] == 120 and seen["weight"] == 0.5
    assert seen["requests"] > 1000
    assert 1.1 < seen["ttft"] / seen["base"] < 1.4  # the default canary is 25 % slower
