"""Naming a search space: a shipped one by name, a table by its file, any Python space by import path.

A *space spec* is text, or a mapping with `from` and the space's arguments:

- `liv`, `livbench`, `nk`: a shipped space, through its env id (`livgym.envs.registry.SPACES`);
- a table file, `runs/landscape.csv` (`.json`, `.parquet`): a `TableSearchSpace` read from it
  (`livgym.envs.tables.file`; arguments choices, metrics, cheap, minimal, name);
- `my_package.spaces:make_space`: what that factory (a function or class) returns when called
  with the arguments; it must be a `SearchSpace`.

```yaml
space: runs/landscape.csv                                      # choice columns named choice_*
space: {from: designs.csv, choices: [op, depth], cheap: [params]}
space: {from: nk, n: 12, k: 3}
space: {from: my_package.spaces:make_space, size: 10}
```

`livgym/Space-v0` is the env over any spec: `gymnasium.make("livgym/Space-v0",
space="runs/landscape.csv", objectives=[...])`; its other keyword arguments are `DesignEnv`'s
(`livgym.envs.build` builds it). A shipped name gives that name's own env (`space="nk"` is
`livgym/NK-v0`), so the shipped ids and their configs work unchanged. A search config takes
the same spec as its `space` (and `livgym search` / `compare` as `--space`). Relative paths
are read from the working folder.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from livgym.envs.registry import SPACE_ENV_ID, SPACES
from livgym.envs.space import SearchSpace
from livgym.envs.tables.file import SUFFIXES, TABLE_ARGUMENTS, read_table_space
from livgym.known_names import check_known

KINDS: tuple[str, ...] = ("shipped", "table", "factory")


@dataclass(frozen=True)
class SpaceSpec:
    """A parsed space spec: where the space comes from and its arguments."""

    source: str
    arguments: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: Any, where: str = "space") -> SpaceSpec:
        """A spec from text or a {from: ..., **arguments} mapping; anything else is a ValueError."""
        if isinstance(value, str):
            source, arguments = value, {}
        elif isinstance(value, Mapping) and "from" in value:
            source, arguments = value["from"], {k: v for k, v in value.items() if k != "from"}
        else:
            raise ValueError(f"{where}={value!r}: name a space: {', '.join(SPACES)}, a table file "
                             f"({', '.join(SUFFIXES)}), or module:factory, alone or as {{from: ..., arguments}}")
        if not isinstance(source, str) or not source.strip():
            raise ValueError(f"{where}: from={source!r} must name a space ({', '.join(SPACES)}, a table file or "
                             "module:factory)")
        if not all(isinstance(k, str) for k in arguments):
            raise ValueError(f"{where}: argument names must be text, got {sorted(map(repr, arguments))}")
        spec = cls(source.strip(), dict(arguments))
        spec.kind(where)  # an unrecognisable source is an error now
        return spec

    def kind(self, where: str = "space") -> str:
        """"shipped", "table" or "factory"."""
        if self.source in SPACES:
            return "shipped"
        if Path(self.source).suffix.lower() in SUFFIXES:
            return "table"
        module, colon, factory = self.source.partition(":")
        if colon and module and factory and all(part.isidentifier() for part in module.split(".")) \
                and factory.isidentifier():
            return "factory"
        raise ValueError(f"{where}: {self.source!r} is not a shipped space ({', '.join(SPACES)}), a table file "
                         f"({', '.join(SUFFIXES)}) or a Python factory (module:function)")

    def env_id(self) -> str:
        """The env id that builds this space: a shipped name's own, else `livgym/Space-v0`."""
        return SPACES[self.source].env_id if self.source in SPACES else SPACE_ENV_ID

    def to_config(self) -> dict[str, Any]:
        return {"from": self.source, **self.arguments}

    def check_arguments(self, where: str = "space") -> None:
        """A ValueError naming any argument the space does not take (before anything is built)."""
        kind = self.kind(where)
        if kind == "shipped":
            known = set(SPACES[self.source].space_arguments) - {"store"}
        elif kind == "table":
            known = set(TABLE_ARGUMENTS)
        else:
            parameters = inspect.signature(self.factory(where)).parameters.values()
            if any(p.kind is p.VAR_KEYWORD for p in parameters):
                return
            known = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        check_known(self.arguments, known, f"{where}: {self.source}", "argument")

    def factory(self, where: str = "space") -> Any:
        """The callable a `module:factory` spec names, imported."""
        module_name, _, name = self.source.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ValueError(f"{where}: {self.source}: cannot import {module_name!r}: {err}") from None
        made = getattr(module, name, None)
        if not callable(made):
            raise ValueError(f"{where}: {self.source}: module {module_name!r} has no function or class {name!r}")
        return made

    def build(self, where: str = "space") -> SearchSpace:
        """The space of a table or factory spec (a shipped one is built by its env id)."""
        kind = self.kind(where)
        if kind == "shipped":
            raise ValueError(f"{where}: {self.source!r} is built by its env id {self.env_id()}")
        self.check_arguments(where)
        if kind == "table":
            return read_table_space(self.source, **self.arguments)
        try:
            space = self.factory(where)(**self.arguments)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: {self.source}: {err}") from None
        if not isinstance(space, SearchSpace):
            raise ValueError(f"{where}: {self.source} returned {type(space).__name__}, not a SearchSpace "
                             "(livgym.envs.space)")
        return space
