"""One study from Python and from the CLI, side by side (the GIL is released while the
C++ engine runs, so they should take the same time).

    .venv/bin/python bench/python_vs_cli.py [scenario] [runs] [repetitions]

Prints the median wall time of each over the repetitions, alternating the two so that
machine noise hits both alike.
"""

import os
import statistics
import subprocess
import sys
import time

import canarysim as cs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    scenario = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "scenarios", "default.yaml")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    cli = os.path.join(ROOT, "build", "canarysim")
    py_times, cli_times = [], []
    for _ in range(reps):
        t = time.perf_counter()
        study = cs.run(scenario, runs=runs, seed=1)
        py_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run([cli, "run", scenario, "--runs", str(runs), "--seed", "1", "--format", "csv",
                        "--quiet"], check=True, stdout=subprocess.DEVNULL)
        cli_times.append(time.perf_counter() - t)
    p, c = statistics.median(py_times), statistics.median(cli_times)
    print(f"{os.path.basename(scenario)}, {runs} runs, {study.summary['threads']} threads, median of {reps}:")
    print(f"  Python cs.run: {p:.3f} s   (includes building the DataFrame)")
    print(f"  CLI run --format csv: {c:.3f} s   (includes process start and writing CSV)")
    print(f"  ratio Python / CLI: {p / c:.3f}")


if __name__ == "__main__":
    main()
