"""Every notebook in notebooks/ runs headless, top to bottom, on the canarysim kernel."""

import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p) for p in NOTEBOOKS])
def test_notebook_executes(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="canarysim",
                            resources={"metadata": {"path": os.path.join(ROOT, "notebooks")}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert not errors


def _without_jupyter_path():
    env = dict(os.environ)
    env.pop("JUPYTER_PATH", None)
    return env


def test_a_notebook_executes_headless_with_no_environment_set(tmp_path):
    # As a user types it: Debian's jupyter, no JUPYTER_PATH; the kernel named in the
    # notebook is found because `make python` registered it for the user too.
    import subprocess
    nb = sorted(NOTEBOOKS)[0]
    out = tmp_path / "out.ipynb"
    p = subprocess.run(["jupyter", "nbconvert", "--to", "notebook", "--execute", nb, "--output", str(out)],
                       capture_output=True, text=True, env=_without_jupyter_path(), cwd=os.path.join(ROOT, "notebooks"),
                       timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert out.exists()


def test_make_notebook_starts_jupyter_with_the_canarysim_kernel():
    # `make notebook` as the README says, on a free port, asked for its kernels over HTTP.
    import json
    import signal
    import socket
    import subprocess
    import time
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = f"--no-browser --port={port} --ip=127.0.0.1 --NotebookApp.token=t --NotebookApp.open_browser=False"
    server = subprocess.Popen(["make", "-s", "notebook", f"NOTEBOOK_ARGS={args}"], cwd=ROOT, env=_without_jupyter_path(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        specs = None
        deadline = time.monotonic() + 240  # make checks the build first
        while time.monotonic() < deadline and specs is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token=t", timeout=5) as r:
                    specs = json.load(r)
            except OSError:
                time.sleep(1)
        assert specs is not None, "jupyter did not answer"
        assert "canarysim" in specs["kernelspecs"]
        assert specs["kernelspecs"]["canarysim"]["spec"]["display_name"] == "Python (canarysim)"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
