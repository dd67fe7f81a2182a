"""The Python API over canarysim's C++ engine: scenarios, policies, studies as DataFrames."""

from __future__ import annotations

import copy
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from . import _core
from ._core import Decision, Observation


def _path_keys(path: str) -> list[str]:
    """``"regressions[0].onset"`` and ``"regressions.0.onset"`` alike: the keys in order."""
    keys = re.findall(r"[^.\[\]]+", path)
    if not keys or "".join(keys) != re.sub(r"[.\[\]]", "", path):
        raise ValueError(f"'{path}' is not a path like 'canary.error_rate' or 'regressions[0].onset'")
    return keys

OUTCOMES = ("promoted", "rolled_back", "unfinished")


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"'{old}' is the spelling of canarysim 0.1; write '{new}' (the old one goes in 0.3)",
                  FutureWarning, stacklevel=3)


class SummaryDict(dict):
    """A study's summary by the names of ``run --format json`` and the results store
    (``false_rollback_rate_low``, ``detection_time_p50`` in seconds ...). The spellings of
    canarysim 0.1 (``summary["detection_time_s"]["p50"]``, ``false_rollback_rate_ci95``)
    still answer, with a FutureWarning, until 0.3."""

    def __missing__(self, key):
        if not isinstance(key, str):
            raise KeyError(key)
        new = _core.renamed_metric(key)
        if new and dict.__contains__(self, new):
            _deprecated(key, new)
            return self[new]
        family = key[:-2] if key.endswith("_s") else key
        if dict.__contains__(self, family + "_p50"):  # 0.1 nested a distribution
            _deprecated(f'["{key}"]["p50"]', f'["{family}_p50"]')
            return {part: self[f"{family}_{part}"] for part in ("count", "mean", "p50", "p90", "p99")}
        if key.endswith("_ci95") and dict.__contains__(self, key[:-5] + "_low"):  # 0.1 paired an interval
            _deprecated(key, f"{key[:-5]}_low and {key[:-5]}_high")
            return (self[key[:-5] + "_low"], self[key[:-5] + "_high"])
        raise KeyError(key)


class _Frame(pd.DataFrame):
    """A DataFrame whose columns also answer to their canarysim 0.1 names, with a
    FutureWarning, until 0.3 (``ci95_low`` for ``mean_difference_low``, ...)."""

    _metadata = ["_old_names"]

    @property
    def _constructor(self):
        return _Frame

    def __getitem__(self, key):
        if isinstance(key, str) and key not in self.columns:
            new = (getattr(self, "_old_names", None) or {}).get(key) or _core.renamed_metric(key)
            if new and new in self.columns:
                _deprecated(key, new)
                key = new
        return super().__getitem__(key)


def _frame(rows: Any, columns: Sequence[str] | None = None, old_names: Mapping[str, str] | None = None) -> pd.DataFrame:
    frame = _Frame(rows, columns=columns)
    frame._old_names = dict(old_names or {})
    return frame


class Scenario:
    """A scenario you can inspect and change before running it.

    Load one with :meth:`load` (a file), :meth:`from_yaml` (text) or :meth:`from_dict`;
    change any field with :meth:`set` (``sc.set("traffic.rate", "300/s")``) or through
    :attr:`data`. Paths inside it (policy files, traces, profiles) resolve from the
    directory of the file it came from.
    """

    def __init__(self, data: Mapping[str, Any], path: str | None = None):
        if not isinstance(data, Mapping):
            raise ValueError(f"{path or '<dict>'}: expected a mapping of keys to values")
        self.data: dict[str, Any] = copy.deepcopy(dict(data))
        self.path = path
        self._pristine = False  # unchanged since loaded from `path`

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Scenario":
        """Load a scenario file; bad input raises ValueError with the CLI's message."""
        path = os.fspath(path)
        _core.load_scenario(path)  # validates; FileNotFoundError or ValueError as the CLI
        with open(path, encoding="utf-8") as f:
            scenario = cls(yaml.safe_load(f) or {}, path)
        scenario._pristine = True
        return scenario

    @classmethod
    def from_yaml(cls, text: str, name: str = "<string>") -> "Scenario":
        """A scenario from YAML text; ``name`` stands for its file in messages and paths."""
        _core.parse_scenario(text, name)
        return cls(yaml.safe_load(text) or {}, name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: str = ".") -> "Scenario":
        """A scenario from a plain dict; relative paths resolve from ``base_dir``."""
        return cls(data, os.path.join(base_dir, "<dict>"))

    def get(self, dotted: str) -> Any:
        """The value at a path, e.g. ``"canary.error_rate"``; list items as
        ``"regressions.0.onset"`` or ``"regressions[0].onset"`` (the sweep files' form)."""
        node: Any = self.data
        for key in _path_keys(dotted):
            node = node[int(key)] if isinstance(node, list) else node[key]
        return node

    def set(self, dotted: str, value: Any) -> "Scenario":
        """Set the value at a path (creating mappings on the way); returns self. Paths as
        in :meth:`get`."""
        keys = _path_keys(dotted)
        node: Any = self.data
        for key in keys[:-1]:
            if isinstance(node, list):
                node = node[int(key)]
            else:
                node = node.setdefault(key, {})
        if isinstance(node, list):
            node[int(keys[-1])] = value
        else:
            node[keys[-1]] = value
        self._pristine = False
        return self

    def copy(self) -> "Scenario":
        """An independent copy."""
        other = Scenario(self.data, self.path)
        other._pristine = self._pristine
        return other

    def to_yaml(self) -> str:
        """The scenario as YAML text."""
        return yaml.safe_dump(self.data, sort_keys=False)

    def compile(self) -> _core.Scenario:
        """The validated C++ scenario (raises ValueError on bad input)."""
        if self._pristine and self.path:
            return _core.load_scenario(self.path)
        name = f"{self.path} (edited)" if self.path else "<dict>"
        return _core.parse_scenario(self.to_yaml(), name)

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.compile().name

    def __repr__(self) -> str:
        return f"Scenario({self.data.get('name', self.path)!r})"


class Policy:
    """Base class for policies written in Python.

    Subclass it, set :attr:`interval` (seconds between analysis ticks), :attr:`lookback`
    (the longest range ``decide`` reads) and :attr:`initial_weight`, and implement
    :meth:`decide`. Pass an instance wherever a policy file would go. Each run gets its
    own deep copy of the instance, so keep per-run state in attributes freely.

    Cost: the C++ engine runs without the GIL and takes it only for ``decide``, once per
    tick (about a microsecond of overhead per call, plus your code); with several threads
    the calls take turns on the GIL, the simulation between them does not.
    """

    interval: float = 60.0
    lookback: float = 60.0
    initial_weight: float = 0.01

    def decide(self, observation: Observation) -> Decision:  # pragma: no cover - abstract
        """Return a :class:`Decision` for this tick."""
        raise NotImplementedError


def _policy_arg(policy: Any) -> Any:
    """A policy argument as the engine takes it: a parsed handle, or a Policy instance."""
    if policy is None or isinstance(policy, (Policy, _core.PolicyConfig)):
        return policy
    if isinstance(policy, ImportedPolicy):
        return _core.parse_policy(policy.yaml, "<imported>")
    if isinstance(policy, Mapping):
        return _core.parse_policy(yaml.safe_dump(dict(policy), sort_keys=False), "<policy>")
    if isinstance(policy, (str, os.PathLike)):
        text = os.fspath(policy)
        if "\n" in text or text.lstrip().startswith("kind"):
            return _core.parse_policy(text, "<string>")
        return _core.load_policy(text)
    raise ValueError(
        "policy: expected a policy file, a YAML string, a dict, a canarysim.Policy or an ImportedPolicy, got "
        f"{type(policy).__name__}"
    )


def _scenario_arg(scenario: Any) -> _core.Scenario:
    if isinstance(scenario, Scenario):
        return scenario.compile()
    if isinstance(scenario, (str, os.PathLike)):
        return _core.load_scenario(os.fspath(scenario))
    if isinstance(scenario, Mapping):
        return Scenario.from_dict(scenario).compile()
    raise ValueError(f"scenario: expected a Scenario, a file or a dict, got {type(scenario).__name__}")


def _runs_frame(columns: dict) -> pd.DataFrame:
    frame = pd.DataFrame({k: v for k, v in columns.items() if k != "outcome_code"})
    frame.insert(1, "outcome", pd.Categorical.from_codes(columns["outcome_code"], OUTCOMES))
    return frame


@dataclass
class Study:
    """The result of :func:`run`: per-run rows and a summary."""

    runs: pd.DataFrame
    """One row per run: outcome, detection time, blast radius, cost ... (numpy columns)."""
    summary: SummaryDict
    """The summary as a dict by the names of ``run --format json`` and the results store:
    ``false_rollback_rate`` with ``false_rollback_rate_low``/``_high`` (its 95 % interval),
    ``detection_time_p50`` (seconds), ``blast_radius_requests_mean`` ..."""
    reasons: list[str] = field(repr=False)
    """Each run's final decision reason, in run order."""
    hash: int = field(repr=False)
    """A hash of every run's results: equal hashes, equal results."""
    policy_kind: str = ""
    fidelity_check: dict | None = field(default=None, repr=False)
    """Under scaled fidelity, the convergence check (sim/study/convergence.h): the first
    ``fidelity.check`` runs (20) again at 4x the replicas, ``figures`` (name, value, finer,
    se, moved) compared; ``moved`` True (and a warning) when the figures are not converged.
    None for exact studies and when the scenario sets ``fidelity: {check: 0}``."""

    def summary_frame(self) -> pd.DataFrame:
        """The summary's distributions as a DataFrame: one row per distribution
        (``detection_time`` in seconds, ``blast_radius_requests`` ...), columns count,
        mean, p50, p90, p99."""
        parts = ("count", "mean", "p50", "p90", "p99")
        rows = {name: {p: self.summary[f"{name}_{p}"] for p in parts} for name in _core.summary_stats()}
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(parts))


class ScenarioWarning(UserWarning):
    """What canarysim doubts about a study before it runs, as the CLI's ``warning:`` lines:
    a trace's inferred time unit, a pool that cannot carry its peak, a judgement whose
    window holds fewer requests than it needs, what scaled fidelity approximates."""


def _warn(lines: Sequence[str]) -> None:
    for line in lines:
        warnings.warn(line, ScenarioWarning, stacklevel=3)


class FidelityWarning(UserWarning):
    """A scaled study's figures moved when more of the fleet was simulated: they are not
    converged (:attr:`Study.fidelity_check` holds the figures)."""


def _study(result: dict, policy: str = "") -> Study:
    """Called by the function the user called (the warning points at the user's line)."""
    check = result.get("fidelity_check")
    if check is not None and check["moved"]:
        about = f" ({policy})" if policy else ""
        warnings.warn(f"fidelity check{about}: {check['describe']}", FidelityWarning, stacklevel=3)
    return Study(
        runs=_runs_frame(result["columns"]),
        summary=SummaryDict(result["summary"]),
        reasons=list(result["reasons"]),
        hash=int(result["hash"]),
        policy_kind=result.get("policy_kind", ""),
        fidelity_check=check,
    )


def run(scenario: Any, policy: Any = None, *, runs: int = 1000, seed: int = 1, threads: int = 0,
        progress: bool = True) -> Study:
    """Run a Monte Carlo study.

    ``scenario``: a :class:`Scenario`, a file path or a dict. ``policy``: a policy file,
    a YAML string, a dict, a :class:`Policy` instance or an :class:`ImportedPolicy`; by
    default the scenario's own.
    The same ``seed`` gives the same results whatever ``threads`` (0: one per core).
    ``progress``: a line on stderr (runs done, rate, ETA) once a study runs over 2 s.
    An interrupt (Ctrl-C, Jupyter's stop) lets the running runs finish, then raises
    KeyboardInterrupt.
    """
    compiled = _scenario_arg(scenario)
    result = _core.run(compiled, _policy_arg(policy), runs, seed, threads, progress)
    _warn(result["warnings"])
    return _study(result)


@dataclass
class Comparison:
    """The result of :func:`compare`."""

    studies: dict[str, Study]
    """Each policy's study, by name."""
    differences: pd.DataFrame
    """Paired differences against the first policy: one row per (policy, metric)."""


def compare(scenario: Any, policies: Mapping[str, Any] | Sequence[Any], *, runs: int = 1000,
            seed: int = 1, threads: int = 0, progress: bool = True) -> Comparison:
    """Run several policies on the same runs (common random numbers) and compare them.

    ``policies``: a mapping of names to policies, or a list (named policy0, policy1 ...);
    ``None`` stands for the scenario's own policy.
    Differences are policy minus the first policy, run by run, with 95 % intervals.
    """
    if not isinstance(policies, Mapping):
        policies = {f"policy{i}": p for i, p in enumerate(policies)}
    names = list(policies)
    compiled = _scenario_arg(scenario)
    args = [_policy_arg(policies[n]) for n in names]  # None: the scenario's own
    result = _core.compare(compiled, args, names, runs, seed, threads, progress)
    _warn(result["warnings"])
    studies = {}
    for n, s in zip(names, result["studies"]):  # a loop, not a comprehension: its frame would take a stack level
        studies[n] = _study(s, n)
    rows = []
    for name, diffs in zip(names[1:], result["differences"][1:]):
        for metric, pairs, mean, low, high in diffs:
            rows.append({"policy": name, "against": names[0], "metric": metric, "pairs": pairs,
                         "mean_difference": mean, "mean_difference_low": low, "mean_difference_high": high})
    frame = _frame(rows, ["policy", "against", "metric", "pairs", "mean_difference", "mean_difference_low",
                          "mean_difference_high"],
                   {"ci95_low": "mean_difference_low", "ci95_high": "mean_difference_high"})
    return Comparison(studies, frame)


def timeline(scenario: Any, policy: Any = None, *, run: int = 0, seed: int = 1) -> pd.DataFrame:
    """One run up close: at every analysis tick the weight, both versions' SLIs as the
    policy saw them, pool sizes and queues, and the decision with its reason.

    The frame's ``attrs`` hold the run's ``outcome`` and final ``reason``.
    """
    compiled = _scenario_arg(scenario)
    result = _core.timeline(compiled, _policy_arg(policy), run, seed)
    _warn(result["warnings"])
    frame = pd.DataFrame(result["columns"])
    frame["action"] = frame["action"].astype("category")
    frame.attrs["outcome"] = result["outcome"]
    frame.attrs["reason"] = result["reason"]
    return frame


def tradeoff(good: Any, bad: Any, policy: Mapping[str, Any] | str, parameter: str,
             values: Iterable[Any], *, runs: int = 200, seed: int = 1, threads: int = 0) -> pd.DataFrame:
    """How one policy parameter trades false rollbacks against detection time.

    For each value of ``parameter`` (a dotted path into the policy, e.g.
    ``"checks.1.max_ratio"``), runs the policy on a good release (``good``: every rollback
    is false) and on a bad one (``bad``), on the same seeds. Returns one row per value:
    false_rollback_rate with _low and _high (the good release), detection_rate,
    detection_time_p50 and _p90 in seconds, blast_radius_requests_mean (the bad one).
    """
    if isinstance(policy, (str, os.PathLike)):
        with open(os.fspath(policy), encoding="utf-8") as f:
            base = yaml.safe_load(f)
    else:
        base = copy.deepcopy(dict(policy))
    rows = []
    for value in values:
        p = Scenario(base)
        p.set(parameter, value)
        g = run(good, p.data, runs=runs, seed=seed, threads=threads).summary
        b = run(bad, p.data, runs=runs, seed=seed, threads=threads).summary
        rows.append({
            "value": value,
            "false_rollback_rate": g["false_rollback_rate"],
            "false_rollback_rate_low": g["false_rollback_rate_low"],
            "false_rollback_rate_high": g["false_rollback_rate_high"],
            "detection_rate": b["rolled_back"] / b["runs"],
            "detection_time_p50": b["detection_time_p50"],
            "detection_time_p90": b["detection_time_p90"],
            "blast_radius_requests_mean": b["blast_radius_requests_mean"],
        })
    return _frame(rows)


def validate(path: str | os.PathLike) -> str:
    """Check a scenario or policy file; returns a one-line description."""
    return _core.validate_file(os.fspath(path))


def policy_kinds() -> list[str]:
    """The policy kinds the engine knows (the YAML ``kind`` values)."""
    return list(_core.policy_kinds())


class InteropWarning(UserWarning):
    """What :func:`import_policy` or :func:`export_policy` could not carry over exactly, as
    the CLI's ``warning:`` lines, each naming the file and key: a metric dropped, a key no
    reader read, an approximation."""


@dataclass
class ImportedPolicy:
    """A tool's configuration as a canarysim policy (:func:`import_policy`). Pass it as the
    ``policy`` of :func:`run` or :func:`compare`, or :meth:`save` it."""

    yaml: str
    """The policy file's text; the rules it keeps are comments at its top."""
    rules: list[str]
    """One line per rule kept, in canarysim's units, with the file:line it came from."""
    warnings: list[str] = field(repr=False)
    """What could not be honoured (also issued as :class:`InteropWarning`)."""

    def save(self, path: str | os.PathLike) -> None:
        """Write the policy file."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.yaml)


def _paths(files: Any) -> list[str]:
    if isinstance(files, (str, os.PathLike)):
        return [os.fspath(files)]
    return [os.fspath(f) for f in files]


def import_policy(tool: str, files: Any, *, name: str = "", latency: str = "e2e", strict: bool = False,
                  lifetime: str = "1h", interval: str = "15m", weight: float = 10.0,
                  match_weight: float = 10.0) -> ImportedPolicy:
    """``canarysim import``: an Argo Rollout (``tool="argo"``), a Flagger Canary
    (``"flagger"``), a Kayenta canary config (``"kayenta"``, then optionally the Spinnaker
    pipeline whose stage gives its schedule) or an AWS strategy (``"aws"``: a predefined
    name, or a deployment config file) as a canarysim policy.

    ``files``: a path or a list of them (the Rollout with its AnalysisTemplates ...).
    ``name`` picks the Rollout, Canary or Spinnaker stage when the files hold several;
    ``latency`` is the LLM latency a web request latency stands for (e2e, ttft, itl);
    ``lifetime``, ``interval`` and ``weight`` are Kayenta's schedule when no stage gives it;
    ``match_weight`` is the share of users a Flagger A/B match sends; ``strict`` refuses on
    any warning. Raises ValueError, naming the file and key, for what cannot be imported
    (and for what the tool itself would reject: docs/policies.md).
    """
    out = _core.import_policy(tool, _paths(files), name, latency, strict, lifetime, interval, float(weight),
                              float(match_weight))
    for line in out["warnings"]:
        warnings.warn(line, InteropWarning, stacklevel=2)
    return ImportedPolicy(yaml=out["yaml"], rules=list(out["rules"]), warnings=list(out["warnings"]))


def export_policy(tool: str, policy: Any, *, metrics: str | os.PathLike | None = None,
                  name: str = "llm-serving", out: str | os.PathLike | None = None) -> dict[str, str]:
    """``canarysim export-policy``: a ``kind: argo`` policy as Argo's Rollout and
    AnalysisTemplates (``tool="argo"``), a ``kind: flagger`` one as Flagger's Canary and
    MetricTemplates (``"flagger"``), exactly (importing them back gives the same study).

    ``policy``: a policy file, or an :class:`ImportedPolicy`. ``metrics``: a metric mapping
    file (``canarysim export-policy --print-metrics`` writes the default). ``name``: the
    Deployment. Returns the files' texts by file name; with ``out``, also writes them in that
    folder. Raises ValueError for a kind the tool cannot express, with the reason.
    """
    if isinstance(policy, ImportedPolicy):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "policy.yaml")
            policy.save(path)
            return export_policy(tool, path, metrics=metrics, name=name, out=out)
    result = _core.export_policy(tool, os.fspath(policy), os.fspath(metrics) if metrics else "", name)
    for line in result["warnings"]:
        warnings.warn(line, InteropWarning, stacklevel=2)
    files = {file: text for file, text in result["files"]}
    if out is not None:
        os.makedirs(out, exist_ok=True)
        for file, text in files.items():
            with open(os.path.join(out, file), "w", encoding="utf-8") as f:
                f.write(text)
    return files
