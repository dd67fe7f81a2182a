"""Plots of studies and runs (matplotlib). Each function draws on ``ax`` (or a new figure)
and returns the matplotlib Axes it drew on, so notebooks can style and save them."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ._api import Study

_MARKS = {"set_weight": ("tab:blue", "-"), "promote": ("tab:green", "-"),
          "rollback": ("tab:red", "-"), "drained": ("tab:red", ":")}


def _axes(ax, **fig):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(**fig)[1]


def plot_timeline(frame: pd.DataFrame, sli: str = "ttft_p99_s", axes=None):
    """A run's timeline (from :func:`canarysim.timeline`): the canary weight over time, the
    canary's and the baseline's ``sli`` per analysis tick, and every decision marked."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
    top, bottom = axes
    minutes = frame["time_s"] / 60
    top.step(minutes, frame["weight"] * 100, where="post", color="black")
    top.set_ylabel("canary weight (%)")
    bottom.plot(minutes, frame[f"canary_{sli}"], marker=".", label="canary")
    bottom.plot(minutes, frame[f"baseline_{sli}"], marker=".", label="baseline")
    bottom.set_ylabel(sli)
    bottom.set_xlabel("minutes since the rollout started")
    for t, action in zip(minutes, frame["action"]):
        if action in _MARKS and t > 0:
            color, style = _MARKS[action]
            for ax in (top, bottom):
                ax.axvline(t, color=color, linestyle=style, alpha=0.5)
    bottom.legend()
    outcome = frame.attrs.get("outcome")
    if outcome:
        top.set_title(f"run outcome: {outcome}")
    return axes


def plot_detection_cdf(studies: Mapping[str, Study] | Study, ax=None):
    """The empirical CDF of detection time (rolled-back runs with a regression active)."""
    ax = _axes(ax, figsize=(6, 4))
    if isinstance(studies, Study):
        studies = {"": studies}
    for name, study in studies.items():
        d = np.sort(study.runs["detection_time_s"].dropna().to_numpy()) / 60
        if len(d):
            ax.step(d, np.arange(1, len(d) + 1) / len(study.runs), where="post", label=name or None)
    ax.set_xlabel("detection time (minutes)")
    ax.set_ylabel("share of runs detected by then")
    ax.set_ylim(0, 1.02)
    if len(studies) > 1:
        ax.legend()
    return ax


def plot_blast_radius(studies: Mapping[str, Study] | Study, users: bool = False, ax=None):
    """The distribution of blast radius (requests, or distinct users) over runs with a
    regression active."""
    ax = _axes(ax, figsize=(6, 4))
    if isinstance(studies, Study):
        studies = {"": studies}
    column = "blast_radius_users" if users else "blast_radius_requests"
    for name, study in studies.items():
        r = study.runs[study.runs["regression_active"]][column]
        ax.hist(r, bins=40, alpha=0.6, label=name or None)
    ax.set_xlabel("blast radius (" + ("users" if users else "requests") + ")")
    ax.set_ylabel("runs")
    if len(studies) > 1:
        ax.legend()
    return ax


def plot_tradeoff(frame: pd.DataFrame, ax=None, label: str = "value"):
    """The trade-off curve from :func:`canarysim.tradeoff`: false rollback rate (with its
    95 % interval) against median detection time, one point per parameter value."""
    ax = _axes(ax, figsize=(6, 4.5))
    x = frame["detection_time_p50"] / 60
    y = frame["false_rollback_rate"] * 100
    err = np.vstack([y - frame["false_rollback_rate_low"] * 100, frame["false_rollback_rate_high"] * 100 - y])
    err = np.clip(err, 0, None)  # rounding can leave -1e-16 where an interval touches the rate
    ax.errorbar(x, y, yerr=err, marker="o", capsize=3)
    for xi, yi, v in zip(x, y, frame["value"]):
        ax.annotate(f"{label}={v}", (xi, yi), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xlabel("median detection time of a bad release (minutes)")
    ax.set_ylabel("false rollback rate of a good release (%)")
    return ax


__all__ = ["plot_blast_radius", "plot_detection_cdf", "plot_timeline", "plot_tradeoff"]
