"""A griffe extension for the API pages: doctest examples in docstrings render as code.

livgym's docstrings carry runnable `>>>` examples in plain text, where Markdown would read
`>>>` as a quote and `info["a"]["b"]` as a link. This fences each run of example lines (a
`>>>` line, its `...` continuations and its expected output, up to a blank line) as a `pycon`
code block, in the rendered page only: the docstrings themselves stay as they are.
"""

from __future__ import annotations

from typing import Any

from griffe import Extension, Object

FENCE = "```"


def fence_doctests(text: str) -> str:
    """`text` with every doctest run outside a code block wrapped in a pycon fence."""
    out: list[str] = []
    in_code = in_example = False
    indent = ""
    for line in text.splitlines():
        stripped = line.lstrip()
        if in_example and not stripped:
            out.append(indent + FENCE)
            in_example = False
        if stripped.startswith(FENCE) and not in_example:
            in_code = not in_code
        elif not in_code and not in_example and (stripped == ">>>" or stripped.startswith(">>> ")):
            indent = line[:len(line) - len(stripped)]
            out.append(indent + FENCE + "pycon")
            in_example = True
        out.append(line)
    if in_example:
        out.append(indent + FENCE)
    return "\n".join(out)


class DoctestFences(Extension):
    def on_object(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
