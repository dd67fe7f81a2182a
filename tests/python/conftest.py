import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "build", "canarysim")


@pytest.fixture(autouse=True)
def in_root(monkeypatch):
    """Tests use paths as a user in the project folder types them."""
    monkeypatch.chdir(ROOT)


def cli(*args):
    """Runs the CLI; returns (exit code, stdout, stderr)."""
    p = subprocess.run([CLI, *args], capture_output=True, text=True, cwd=ROOT)
    return p.returncode, p.stdout, p.stderr
