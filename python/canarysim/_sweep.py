"""Sweeps, tuning and power from Python: run a sweep locally or over a Dask cluster, read
a results store, and run the CLI's tune and power studies with DataFrames as results.

A results store is the SQLite file that ``canarysim sweep`` writes (its schema is
documented in sim/study/store.h); :func:`read_sweep` needs only Python's sqlite3 and pandas, so
any machine can read the stores a batch cluster wrote.
"""

from __future__ import annotations

import io
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import _core
from ._api import _warn

_RUN_COLUMNS = (
    "run, outcome, regression_active, decision_time_s, detection_time_s, time_to_mitigate_s, "
    "blast_radius_requests, blast_radius_users, rollout_duration_s, requests, canary_requests, events, "
    "baseline_replica_seconds, canary_replica_seconds, baseline_tokens, canary_tokens, baseline_cost, "
    "canary_cost, reason, segment_blast_requests, segment_blast_users, before_evidence, failed_requests, "
    "gpu_hours, baseline_failed_requests, canary_failed_requests, timed_out_requests, rejected_requests, "
    "abandoned_requests, preemptions"
)


@dataclass
class SweepResults:
    """The contents of a results store, as DataFrames indexed by point."""

    manifest: dict
    """What produced the store: sweep, scenario and policy text, seed, runs, version, command line."""
    points: pd.DataFrame
    """One row per point: its label and the swept fields' values (numbers where they read as one)."""
    summaries: pd.DataFrame
    """One row per complete point: the swept fields, then the summary's columns."""
    runs: pd.DataFrame
    """One row per stored run: the swept fields, then every field of the run's result."""


def _fields_sql(con: sqlite3.Connection) -> tuple[list[str], str]:
    fields = [r[0] for r in con.execute("SELECT field FROM fields ORDER BY position")]
    sql = "".join(
        ", (SELECT COALESCE(v.number, v.value) FROM point_values v WHERE v.point = p.point AND v.field = ?)"
        f' AS "{f.replace(chr(34), chr(34) * 2)}"'
        for f in fields
    )
    return fields, sql


def read_sweep(path: str | os.PathLike) -> SweepResults:
    """Read a results store written by ``canarysim sweep``, ``merge`` or :func:`sweep`."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such results store")
    # A read-write connection, though it only reads: a read-only one cannot remove the
    # write-ahead log's files when it closes, and would leave them beside the store.
    con = sqlite3.connect(path)
    try:
        try:
            manifest = dict(con.execute("SELECT key, value FROM manifest"))
        except sqlite3.DatabaseError as e:
            raise ValueError(f"{path}: not a canarysim results store ({e})") from None
        for key in ("seed", "runs", "points", "shard", "shards"):
            manifest[key] = int(manifest[key])
        fields, sql = _fields_sql(con)
        points = pd.read_sql_query(f"SELECT p.point, p.label{sql} FROM points p ORDER BY p.point", con,
                                   params=fields, index_col="point")
        summaries = pd.read_sql_query(
            f"SELECT p.point{sql}, s.* FROM points p JOIN summaries s ON s.point = p.point ORDER BY p.point",
            con, params=fields)
        summaries = summaries.loc[:, ~summaries.columns.duplicated()].set_index("point")
        runs = pd.read_sql_query(
            f"SELECT p.point{sql}, {_RUN_COLUMNS} FROM runs r JOIN points p ON p.point = r.point "
            "ORDER BY r.point, r.run", con, params=fields)
    finally:
        con.close()
    # The store keeps summaries as REAL; counts read better as integers.
    counts = [c for c in summaries.columns
              if c in ("runs", "promoted", "rolled_back", "unfinished", "false_rollbacks", "missed_regressions")
              or c.endswith("_count")]
    summaries[counts] = summaries[counts].astype("int64")
    runs["regression_active"] = runs["regression_active"].astype(bool)
    return SweepResults(manifest=manifest, points=points, summaries=summaries, runs=runs)


def _run_shard(path: str, shard: int, shards: int, threads: int) -> bytes:
    """A Dask task: run one shard into a store on the worker and return the file's bytes.

    Returning the bytes, rather than a path, means workers need no shared filesystem for
    results; they need only read the sweep, scenario and policy files.
    """
    with tempfile.TemporaryDirectory(prefix="canarysim-shard-") as tmp:
        db = os.path.join(tmp, f"shard-{shard}-of-{shards}.db")
        _core.run_sweep(path, db, shard, shards, False, threads, f"canarysim.sweep(dask shard {shard}/{shards})", False)
        with open(db, "rb") as f:
            return f.read()


def sweep(path: str | os.PathLike, *, db: str | os.PathLike | None = None, client: Any = None,
          shards: int | None = None, threads: int = 0, resume: bool = False, progress: bool = True) -> pd.DataFrame:
    """Run the sweep file at ``path`` and return its summaries, one row per point.

    Without ``client`` the sweep runs here (``threads`` threads). With a Dask
    ``distributed.Client`` it is split into ``shards`` shards (default: one per worker),
    one task each, and merged here; the result is identical, run for run, to a local
    sweep. ``db`` keeps the results store (default: a temporary file, removed);
    ``resume`` completes an existing local store. The runs are in ``read_sweep(db).runs``.
    """
    path = os.path.abspath(os.fspath(path))
    _warn(_core.sweep_warnings(path))
    with tempfile.TemporaryDirectory(prefix="canarysim-sweep-") as tmp:
        out = os.fspath(db) if db is not None else os.path.join(tmp, "sweep.db")
        if client is None:
            _core.run_sweep(path, out, 1, 1, resume, threads, "canarysim.sweep", progress)
        else:
            if resume:
                raise ValueError("resume: a Dask sweep reruns failed shards itself; resume is for local sweeps")
            n = shards or max(1, len(client.scheduler_info()["workers"]))
            futures = [client.submit(_run_shard, path, k, n, threads, pure=False) for k in range(1, n + 1)]
            parts = []
            for k, data in enumerate(client.gather(futures), start=1):
                part = os.path.join(tmp, f"shard-{k}-of-{n}.db")
                with open(part, "wb") as f:
                    f.write(data)
                parts.append(part)
            _core.merge_stores(out, parts, f"canarysim.sweep(client=..., shards={n})")
        return read_sweep(out).summaries


def power(path: str | os.PathLike, *, threads: int = 0, out: str | os.PathLike | None = None,
          progress: bool = True) -> pd.DataFrame:
    """Run a power study file (see ``canarysim power``): one row per regression size.

    ``frame.attrs`` holds ``threshold`` (the smallest size caught in ``target`` of the
    runs, or None), ``target``, ``field`` and ``report`` (the CLI's text). ``out`` also
    writes ``power.csv`` and ``power.svg`` to that folder.
    """
    r = _core.run_power(os.fspath(path), threads, os.fspath(out) if out is not None else "", progress)
    _warn([f"{os.fspath(path)}: {w}" for w in r["warnings"]])
    frame = pd.read_csv(io.StringIO(r["csv"]), dtype={"size": str}).drop(columns="threshold")
    frame.attrs.update(threshold=None if r["threshold"] is None else frame["size"][r["threshold"]],
                       target=r["target"], field=r["field"], report=r["report"])
    return frame


@dataclass
class Tuning:
    """The result of :func:`tune`."""

    candidates: pd.DataFrame
    """One row per candidate: runs reached, feasible, on the Pareto front, chosen, its
    parameters (as written) and mixed metrics (the objective first)."""
    chosen: pd.Series
    """The chosen candidate's row."""
    found: bool
    """Whether the chosen candidate meets every constraint."""
    report: str
    """The CLI's report: intervals per scenario, the Pareto front."""
    objective: str
    """The name of the minimised metric (a column of ``candidates``)."""

    @property
    def pareto(self) -> pd.DataFrame:
        """The candidates on the Pareto front, by objective."""
        return self.candidates[self.candidates["pareto"]].sort_values(self.objective, kind="stable")


def tune(path: str | os.PathLike, *, threads: int = 0, out: str | os.PathLike | None = None,
         progress: bool = True) -> Tuning:
    """Run a tuning file (see ``canarysim tune``). ``out`` also writes the CLI's files.
    ``progress`` and interrupts as in :func:`canarysim.run`."""
    r = _core.run_tune(os.fspath(path), threads, os.fspath(out) if out is not None else "", progress)
    _warn([f"{os.fspath(path)}: {w}" for w in r["warnings"]])
    frame = pd.read_csv(io.StringIO(r["csv"]), dtype={p: str for p in r["parameters"]})
    flags = ["feasible", "pareto", "chosen"]
    frame[flags] = frame[flags].astype(bool)
    frame = frame.set_index("candidate", drop=False)
    return Tuning(candidates=frame, chosen=frame.loc[r["best"]], found=r["found"], report=r["report"],
                  objective=r["metrics"][0])
