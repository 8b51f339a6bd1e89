"""The one check that a config names only what is known: keys of a YAML section, fields of a JSON
record, keyword arguments, genes, constraints, methods.

A typo in a key must be an error naming it and the known ones, never a setting silently
ignored; every parser of user input calls `check_known` for it, so the message has one form:
`WHERE: unknown key(s) ['typo']; known: ['a', 'b']`. It lives in the root package, which imports
nothing of livgym's, so that every layer, `livgym.models` included, can use it.
"""

from __future__ import annotations

from typing import Any, Collection, Iterable


def check_known(given: Iterable[Any], known: Collection[Any], where: str = "", what: str = "key") -> None:
    """A ValueError naming every name in `given` (a mapping gives its keys) that is not in
    `known`, and the known ones: `WHERE: unknown WHAT(s) [...]; known: [...]` (no `WHERE: `
    when `where` is empty). Known names listed in order (a list or tuple) are shown in that
    order, any other collection sorted."""
    unknown = sorted({name for name in given if name not in known}, key=str)
    if unknown:
        shown = list(known) if isinstance(known, (list, tuple)) else sorted(known, key=str)
        prefix = f"{where}: " if where else ""
        raise ValueError(f"{prefix}unknown {what}(s) {unknown}; known: {shown}")
