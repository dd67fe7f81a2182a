"""The pages people share, one per kind of result, checked in a real browser: a
comparison, a check, a sweep store, and (in test_tune_power.py) tune and power folders.
A study's page is checked by the C++ CLI tests."""

import os
import re

from conftest import ROOT, cli, rendered

SCENARIOS = os.path.join(ROOT, "scenarios")
PRESETS = os.path.join(ROOT, "policies", "presets")


def test_a_comparisons_page_has_every_policy_its_differences_and_figures(tmp_path):
    page = tmp_path / "compare.html"
    code, out, err = cli("compare", f"{SCENARIOS}/error-spike.yaml", f"{PRESETS}/stepped.yaml",
                         f"{PRESETS}/sequential.yaml", "--runs", "40", "-q", "--report", str(page))
    assert code == 0, err
    dom = rendered(page)
    assert dom.count("<svg") == 1  # detection and blast radius, side by side
    for text in ("canarysim compare: error-spike", "Detection time", "Blast radius", "paired by run",
                 "sequential.yaml minus", "kind: sequential", "kind: stepped", "name: error-spike"):
        assert text in dom, text
    # Both policies' curves, in the legend by name.
    assert len(re.findall(r"presets/(stepped|sequential)\.yaml</text>", dom)) == 4


def test_a_checks_page_and_markdown_say_the_verdict_and_every_case(tmp_path):
    page = tmp_path / "check.html"
    code, out, err = cli("check", "tests/check/presets.yaml", "--runs", "20", "-q", "--format", "markdown",
                         "--report", str(page))
    assert code == 0, err
    assert out.startswith("### canarysim check: preset policies passed")
    assert "| stepped on an error spike | 20 |" in out
    assert "| detection_time_p90 | 4.0m | 10.0m | ok |" in out  # budgets in their units
    assert "| detection_time | 0 | [0, 0] |" in out              # against the committed baseline
    dom = rendered(page)
    for text in ("canarysim check: preset policies passed", "flagger on an error spike", "against the baseline",
                 "Detection time", "# The CI gate on canarysim"):
        assert text in dom, text


def test_a_failed_checks_markdown_and_page_say_what_breached(tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(f"""name: tight
runs: 10
cases:
  - name: spike
    scenario: {SCENARIOS}/error-spike.yaml
    budgets: {{detection_time_p90: 30s}}
""")
    page = tmp_path / "check.html"
    code, out, err = cli("check", str(suite), "-q", "--format", "markdown", "--report", str(page))
    assert code == 3, err
    assert "### canarysim check: tight FAILED" in out and "**budget detection_time_p90 breached**" in out
    assert "<td class='bad'>BREACH</td>" in page.read_text()
    assert "tight FAILED" in rendered(page)


def test_a_sweep_stores_page_has_every_point_and_the_tradeoff(tmp_path):
    sweep = tmp_path / "bake.yaml"
    sweep.write_text(f"""name: bake against errors
scenario: {SCENARIOS}/error-spike.yaml
runs: 12
seed: 2
grid:
  policy.bake_time: [2m, 10m]
  scenario.regressions[0].error_rate: [1%, 3%]
""")
    db = tmp_path / "bake.db"
    code, out, err = cli("sweep", str(sweep), "--db", str(db), "-q")
    assert code == 0, err
    code, out, err = cli("report", str(db))
    assert code == 0, err
    page = tmp_path / "bake.html"
    assert f"wrote {page}" in err
    dom = rendered(page)
    assert dom.count("<svg") == 1
    for text in ("canarysim sweep: bake against errors", "4 points x 12 runs", "False rollbacks against detection",
                 "bake_time=10m, regressions[0].error_rate=3%", "name: bake against errors"):
        assert text in dom, text


def test_report_refuses_what_it_cannot_read(tmp_path):
    code, _, err = cli("report", str(tmp_path / "none.db"))
    assert code == 2 and "none.db: no such file" in err
    code, _, err = cli("report", str(tmp_path))
    assert code == 2 and "a folder without power.csv or candidates.csv" in err
    (tmp_path / "x.db").write_text("not a store")
    code, _, err = cli("report", str(tmp_path / "x.db"))
    assert code == 2 and "not a canarysim results store" in err
    both = tmp_path / "both"
    both.mkdir()
    (both / "power.csv").write_text("size\n")
    (both / "candidates.csv").write_text("x\n")
    code, _, err = cli("report", str(both))
    assert code == 2 and "holds both power.csv and candidates.csv" in err
    code, out, _ = cli("report", "--help")
    assert code == 0 and "sweep store" in out
