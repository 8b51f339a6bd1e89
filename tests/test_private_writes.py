"""No module writes another object's private attributes.

A leading underscore says "this object's own business": a write from outside (`env._callbacks =
[...]`, `setattr(space, "_memo", ...)`) couples the writer to internals the owner may change,
and bypasses whatever the owner keeps consistent. The library writes `self._x` (or `cls._x`)
only; what another object needs to set, its class offers publicly. This test reads the
library's source and names every such write by file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ("models", "rewards", "envs", "controllers", "livgym")
OWN = ("self", "cls")


def _private(name: object) -> bool:
    return isinstance(name, str) and name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _owner_is_own(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in OWN


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        found = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        found = [node.target]
    else:
        return []
    flat: list[ast.expr] = []
    while found:
        target = found.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            found.extend(target.elts)
        elif isinstance(target, ast.Starred):
            found.append(target.value)
        else:
            flat.append(target)
    return flat


def private_writes(source: str) -> list[tuple[int, str]]:
    """(line, text) of each write to a private attribute of anything but `self` / `cls`."""
    hits = []
    for node in ast.walk(ast.parse(source)):
        for target in _targets(node):
            if isinstance(target, ast.Attribute) and _private(target.attr) and not _owner_is_own(target.value):
                hits.append((target.lineno, ast.unparse(target)))
            elif (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute)
                  and target.value.attr == "__dict__" and not _owner_is_own(target.value.value)
                  and isinstance(target.slice, ast.Constant) and _private(target.slice.value)):
                hits.append((target.lineno, ast.unparse(target)))
        if isinstance(node, ast.Call) and len(node.args) >= 2:
            function = ast.unparse(node.func)
            owner, name = node.args[0], node.args[1]
            if (function in ("setattr", "object.__setattr__") and isinstance(name, ast.Constant)
                    and _private(name.value) and not _owner_is_own(owner)):
                hits.append((node.lineno, ast.unparse(node)))
    return sorted(hits)


def test_the_check_finds_what_it_looks_for():
    source = ("env._callbacks = []\nself._ok = 1\na, b.c._d = 1, 2\nsetattr(space, '_memo', 1)\n"
              "object.__setattr__(self, '_fine', 1)\nx.__dict__['_cache'] = 1\nx.public = 1\nx.__doc__ = ''\n")
    assert [line for line, _ in private_writes(source)] == [1, 3, 4, 6]


def test_no_module_writes_another_objects_private_attributes():
    hits = []
    for folder in LIBRARY:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, text in private_writes(path.read_text()):
                hits.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert not hits, "writes to another object's private attributes:\n" + "\n".join(hits)
