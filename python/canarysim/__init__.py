"""canarysim: simulate canary rollout policies for LLM serving.

Start here::

    import canarysim as cs
    study = cs.run("scenarios/default.yaml", runs=1000, seed=1)
    study.runs        # one row per run (pandas)
    study.summary     # the summary (dict)

The engine is C++ (``canarysim._core``); it runs without the GIL, so a study is as fast
from Python as from the command line.
"""

from ._api import (
    Comparison,
    FidelityWarning,
    ImportedPolicy,
    InteropWarning,
    Policy,
    Scenario,
    ScenarioWarning,
    Study,
    compare,
    export_policy,
    import_policy,
    policy_kinds,
    run,
    timeline,
    tradeoff,
    validate,
)
from ._core import Decision, Observation, WindowStats, __version__, set_max_events_per_run
from ._sweep import SweepResults, Tuning, power, read_sweep, sweep, tune

__all__ = [
    "Comparison",
    "Decision",
    "FidelityWarning",
    "ImportedPolicy",
    "InteropWarning",
    "Observation",
    "Policy",
    "Scenario",
    "ScenarioWarning",
    "Study",
    "SweepResults",
    "Tuning",
    "WindowStats",
    "__version__",
    "compare",
    "export_policy",
    "import_policy",
    "policy_kinds",
    "power",
    "read_sweep",
    "run",
    "set_max_events_per_run",
    "sweep",
    "timeline",
    "tradeoff",
    "tune",
    "validate",
]
