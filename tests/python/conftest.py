import os
import sqlite3
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


def table(db, name):
    """Every row of a table of an SQLite file, sorted: equal iff the contents are equal."""
    con = sqlite3.connect(db)
    try:
        return sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
    finally:
        con.close()


def rendered(page):
    """The DOM a real browser (Debian's headless Chromium) builds from the page, after a
    check that the page is self-contained: no script, nothing it could fetch (the SVG
    namespace is a name, not a fetch)."""
    with open(page, encoding="utf-8") as f:
        html = f.read()
    assert "<script" not in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", ""), "a reference out of the page"
    p = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", f"file://{page}"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout
