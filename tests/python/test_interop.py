"""canarysim.import_policy and export_policy: the CLI's import and export-policy from Python,
the same text, the same warnings, and a policy that runs."""

import os

import pytest

import canarysim as cs

from conftest import cli

ROLLOUT = "policies/examples/argo-rollout.yaml"


def test_an_imported_rollout_is_the_clis_policy_and_runs():
    with pytest.warns(cs.InteropWarning) as caught:
        imported = cs.import_policy("argo", ROLLOUT)
    code, out, err = cli("import", "argo", ROLLOUT)
    assert code == 0
    assert imported.yaml == out
    assert imported.warnings == [w[len("warning: "):] for w in err.splitlines() if w.startswith("warning: ")]
    assert [str(w.message) for w in caught] == imported.warnings
    assert any("ttft_p99" in r for r in imported.rules), imported.rules
    study = cs.run("scenarios/error-spike.yaml", imported, runs=4, seed=3, progress=False)
    assert study.policy_kind == "argo" and len(study.runs) == 4


def test_what_cannot_be_imported_raises_with_its_place(tmp_path):
    rollout = tmp_path / "r.yaml"
    rollout.write_text("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n"
                       "  strategy:\n    canary:\n      steps:\n      - {setWeight: 10, pause: {}}\n")
    with pytest.raises(ValueError, match=r"r.yaml:8:9: spec.strategy.canary.steps\[0\]: a step with 2 actions"):
        cs.import_policy("argo", rollout)
    with pytest.raises(FileNotFoundError):
        cs.import_policy("argo", tmp_path / "missing.yaml")


def test_an_export_imports_back_to_the_same_study(tmp_path):
    with pytest.warns(cs.InteropWarning, match="needs a traffic router in Argo"):
        files = cs.export_policy("argo", "tests/data/roundtrip/argo-shadow-dryrun.yaml", out=tmp_path)
    assert sorted(files) == ["analysis-templates.yaml", "rollout.yaml"]
    assert (tmp_path / "rollout.yaml").read_text() == files["rollout.yaml"]
    with pytest.warns(cs.InteropWarning):
        back = cs.import_policy("argo", [tmp_path / f for f in sorted(files)])
    a = cs.run("scenarios/error-spike.yaml", "tests/data/roundtrip/argo-shadow-dryrun.yaml", runs=6, progress=False)
    b = cs.run("scenarios/error-spike.yaml", back, runs=6, progress=False)
    assert a.runs["outcome"].tolist() == b.runs["outcome"].tolist()
    assert a.runs["blast_radius_requests"].tolist() == b.runs["blast_radius_requests"].tolist()
    with pytest.raises(ValueError, match="kind: stepped"):
        cs.export_policy("argo", "policies/presets/stepped.yaml")
