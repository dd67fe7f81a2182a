"""The type stubs of canarysim._core name exactly what the module has."""

import ast
import os

import canarysim
from canarysim import _core

STUB = os.path.join(os.path.dirname(canarysim.__file__), "_core.pyi")


def stub_names():
    tree = ast.parse(open(STUB).read())
    top, members = set(), {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            top.add(node.name)
            members[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        elif isinstance(node, ast.FunctionDef):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            top.add(node.target.id)
    return top, members


def test_stubs_match_the_module():
    top, members = stub_names()
    public = {n for n in dir(_core) if not n.startswith("_")} | {"__version__"}
    assert top == public
    for cls, names in members.items():
        actual = {n for n in dir(getattr(_core, cls)) if not n.startswith("_")}
        assert names == actual, cls


def test_every_public_name_has_a_docstring():
    for name in canarysim.__all__:
        obj = getattr(canarysim, name)
        if callable(obj):
            assert obj.__doc__, name
