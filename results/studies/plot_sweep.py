"""Plots the bake-time sweep from its results store, through canarysim's Python reader.

    .venv/bin/python results/studies/plot_sweep.py STORE.db OUT.png
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import canarysim as cs  # noqa: E402


def main(store: str, out: str) -> None:
    s = cs.read_sweep(store).summaries
    bake, size = "policy.bake_time", "scenario.regressions[0].error_rate"
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for rate, group in s.groupby(size):
        group = group.sort_values(bake)
        minutes = group[bake] / 60
        label = f"errors {100 * rate:g}%"
        axes[0].plot(minutes, 100 * group["rolled_back"] / group["runs"], marker="o", label=label)
        axes[1].plot(minutes, group["detection_time_s_p50"] / 60, marker="o", label=label)
        axes[2].plot(minutes, group["blast_radius_requests_mean"], marker="o", label=label)
    titles = ["bad releases rolled back (%)", "detection time p50 (min)", "blast radius, mean requests"]
    for ax, title in zip(axes, titles):
        ax.set_xlabel("bake time per step (min)")
        ax.set_title(title)
        ax.set_xscale("log")
        ax.set_xticks([2, 5, 10, 20], ["2", "5", "10", "20"])
        ax.grid(alpha=0.3)
    axes[2].set_yscale("log")
    axes[0].legend()
    manifest = cs.read_sweep(store).manifest
    fig.suptitle(f"stepped preset: bake time against error size, {manifest['runs']} runs per point, "
                 f"seed {manifest['seed']} (common random numbers)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(*sys.argv[1:3])
