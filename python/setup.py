"""Builds canarysim._core with the project's CMake build, then packages it.

Without PyPI: `pip install --no-build-isolation ./python` from a venv created with
--system-site-packages (see the Makefile). The extension is built in ../build, the same
tree `make` uses, so an installed package and the CLI come from one build.
"""

import os
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class BuildWithCMake(build_py):
    def run(self):
        build = os.environ.get("CANARYSIM_BUILD", os.path.join(ROOT, "build"))
        # The interpreter the venv was made from (/usr/bin/python3), as the Makefile
        # passes it: the same cache entry, so neither reconfigures the other's build.
        python = getattr(sys, "_base_executable", sys.executable)
        subprocess.check_call(["cmake", "-S", ROOT, "-B", build, "-G", "Ninja",
                               "-DCMAKE_BUILD_TYPE=Release", f"-DPython_EXECUTABLE={python}"])
        subprocess.check_call(["cmake", "--build", build, "--target", "_core", "-j", str(os.cpu_count() or 2)])
        super().run()


setup(cmdclass={"build_py": BuildWithCMake})
