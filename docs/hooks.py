"""MkDocs hooks: tables built from livgym's registries, the command line's own help, and the
importable tree the API pages are read from.

A page asks for a table with a marker on a line of its own, `<!-- registry:fidelities -->` or
`<!-- cli:help -->`; the build replaces it with the table made from the registry at that moment,
so the lists of fidelities, methods, env ids, spaces and objectives are never hand copies. An
unknown marker, or a registry that cannot be found, fails the build.

The API pages (`::: livgym.envs`) are read by griffe without importing the code. Because the
repository's top-level folders install as sub-packages of `livgym` (`package-dir` in
pyproject.toml), griffe cannot find `livgym.envs` in the checkout; `on_config` lays out the
installed tree as symbolic links in a temporary folder and points mkdocstrings at it, with the
griffe extension of `doctest_fences.py` (both paths are known only here, beside this file).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Callable

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- (?P<kind>registry|cli):(?P<name>[a-z-]+) -->$", flags=re.MULTILINE)
CLI_WIDTH = 100  # columns of the generated `--help` text

_api_tree: tempfile.TemporaryDirectory | None = None


# -- the registries ---------------------------------------------------------------------------------


def registry(*places: str) -> Any:
    """The first of `places` ("module:NAME") that imports; a build error naming them all if none does."""
    errors = []
    for place in places:
        module, _, name = place.partition(":")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as err:
            errors.append(f"{place}: {type(err).__name__}: {err}")
    raise PluginError(f"docs/hooks.py: no registry at any of its places ({'; '.join(errors)}); "
                      "update the hook's places")


def fidelities() -> dict[str, Callable[..., Any]]:
    importlib.import_module("livgym.rewards.evaluators")  # importing the evaluators registers their fidelities
    return registry("livgym.rewards.evaluation.evaluator:FIDELITIES")


def fidelity_summaries() -> dict[str, str]:
    """What each shipped fidelity measures, by name (a fidelity registered elsewhere has none)."""
    shipped = registry("livgym.rewards.evaluation.evaluator:SHIPPED_FIDELITIES")
    return {name: entry.summary for name, entry in shipped.items()}


def methods() -> dict[str, Any]:
    return registry("livgym.controllers:METHODS", "livgym.controllers.methods.registry:METHODS")


def env_ids() -> dict[str, Any]:
    return registry("livgym.envs:ENVS")


def shipped_spaces() -> dict[str, Any]:
    return registry("livgym.envs:SPACES", "livgym.envs.registry:SPACES")


def objectives() -> dict[str, Any]:
    return registry("livgym.rewards.objectives:DEFAULT_OBJECTIVES")


def scalarisers() -> dict[str, type]:
    return registry("livgym.rewards.objectives:SCALARISERS")


def backend_kinds() -> tuple[str, ...]:
    return registry("livgym.rewards.backends:BACKEND_KINDS")


def liv_classes() -> tuple[Any, ...]:
    return registry("livgym.models:LIV_CLASSES")


def reference_genomes() -> dict[str, Callable[..., Any]]:
    return registry("livgym.models:REFERENCE_GENOMES")


# -- the tables -------------------------------------------------------------------------------------


def table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    """A Markdown table; a `|` inside a cell is escaped."""
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def summary(obj: Any) -> str:
    """The first paragraph of `obj`'s docstring, on one line."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return " ".join(doc.split("\n\n")[0].split())


def fidelity_table() -> str:
    summaries = fidelity_summaries()
    rows = []
    for name, factory in fidelities().items():
        evaluator = factory()
        settings = ", ".join(f"`{f.name}`" for f in dataclasses.fields(evaluator.config))
        rows.append((f"`{name}`", summaries.get(name, "-"), f"`{type(evaluator).__name__}`",
                     f"`{evaluator.config_hash()[:12]}`", settings))
    return table(("fidelity", "what it measures", "evaluator", "config hash", "settings (`--set KEY=VALUE`)"), rows)


def method_table() -> str:
    rows = [(f"`{name}`", method.summary, "yes" if getattr(method, "model_based", False) else "-")
            for name, method in methods().items()]
    return table(("method", "what it does", "model-based by default"), rows)


def yaml_value(value: Any) -> str:
    """A default as a config file writes it."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return str(value)


def method_parameter_tables() -> str:
    parts = []
    for name, method in methods().items():
        defaults = method.defaults()
        rows = [(f"`{key}`", f"`{yaml_value(getattr(defaults, key))}`", text) for key, text in method.help().items()]
        parts.append(f"### `{name}`\n\n{method.summary}\n\n" + table(("key", "default", "meaning"), rows))
    return "\n\n".join(parts)


def env_id_table() -> str:
    space_of = {env_id: name for name, shipped in shipped_spaces().items()
                for env_id in (shipped.env_id, shipped.vector_env_id) if env_id}

    def space(env_id: str) -> str:
        return f"`{space_of[env_id]}`" if env_id in space_of else "any, by spec (`space=`)"

    def takes(kind: Any) -> str:
        flags = (("evaluation store", "store"), ("backend", "backend"), ("`--device`", "device"))
        said = [label for label, flag in flags if getattr(kind, flag, False)]
        return ", ".join(said) or "-"

    rows = [(f"`{env_id}`", space(env_id), "vector" if kind.vector_reward else "scalar", takes(kind))
            for env_id, kind in env_ids().items()]
    return table(("env id", "space", "reward", "takes"), rows)


def space_table() -> str:
    rows = []
    for name, shipped in shipped_spaces().items():
        vector = f"`{shipped.vector_env_id}`" if shipped.vector_env_id else "-"
        rows.append((f"`{name}`", f"`{shipped.factory.rpartition(':')[2]}`", f"`{shipped.env_id}`", vector))
    return table(("space", "class", "env id", "vector-reward env id"), rows)


def objective_table() -> str:
    rows = [(f"`{name}`", o.direction, o.scale, f"{o.ideal:g}", f"{o.nadir:g}",
             "-" if o.floor is None else f"{o.floor:g}") for name, o in objectives().items()]
    return table(("objective", "direction", "scale", "ideal", "nadir", "floor"), rows)


def scalariser_table() -> str:
    return table(("scalariser", "what it does"), [(f"`{name}`", summary(cls)) for name, cls in scalarisers().items()])


def backend_table() -> str:
    return table(("`backend.kind`",), [(f"`{kind}`",) for kind in backend_kinds()])


def liv_class_table() -> str:
    return table(("id", "name", "structure"), [(c.id, c.name, c.summary) for c in liv_classes()])


def reference_genome_table() -> str:
    return table(("reference genome", "what it is"),
                 [(f"`{name}`", summary(build)) for name, build in reference_genomes().items()])


REGISTRY_TABLES: dict[str, Callable[[], str]] = {
    "fidelities": fidelity_table,
    "methods": method_table,
    "method-parameters": method_parameter_tables,
    "env-ids": env_id_table,
    "spaces": space_table,
    "objectives": objective_table,
    "scalarisers": scalariser_table,
    "backends": backend_table,
    "liv-classes": liv_class_table,
    "reference-genomes": reference_genome_table,
}


# -- the command line's help ------------------------------------------------------------------------


def cli_help() -> str:
    """`livgym --help` and every sub-command's, as argparse prints them at CLI_WIDTH columns."""
    build_parser = registry("livgym.cli:build_parser")
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(CLI_WIDTH)
    try:
        parts: list[str] = []
        pending = [build_parser()]
        while pending:
            parser = pending.pop(0)
            parts.append(f"### `{parser.prog}`\n\n```text\n{parser.format_help().rstrip()}\n```")
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    pending.extend(action.choices.values())
        return "\n\n".join(parts)
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved


CLI_TABLES: dict[str, Callable[[], str]] = {"help": cli_help}
MARKERS: dict[str, dict[str, Callable[[], str]]] = {"registry": REGISTRY_TABLES, "cli": CLI_TABLES}


def render(kind: str, name: str) -> str:
    """The Markdown a marker stands for; a build error naming the known markers if it is unknown."""
    known = MARKERS.get(kind, {})
    if name not in known:
        names = ", ".join(f"{k}:{n}" for k, tables in MARKERS.items() for n in tables)
        raise PluginError(f"unknown docs marker {kind}:{name}; known: {names}")
    return known[name]()


def expand(markdown: str) -> str:
    """`markdown` with every marker replaced by what it stands for."""
    return MARKER.sub(lambda m: render(m["kind"], m["name"]), markdown)


# -- MkDocs events ----------------------------------------------------------------------------------


def installed_tree(into: Path) -> Path:
    """`into/livgym`, laid out as pip installs it: the package folders of pyproject's `package-dir`
    linked where they install, so griffe finds `livgym.envs` as `import` does."""
    package_dirs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    for package, folder in sorted(package_dirs.items()):  # parents before children
        if package != "livgym" and package.count(".") != 1:  # it would be linked inside a linked folder
            raise PluginError(f"docs/hooks.py: package-dir {package!r} is not a direct sub-package of livgym")
        target = into.joinpath(*package.split("."))
        if package == "livgym":
            target.mkdir(parents=True)
            for entry in (ROOT / folder).iterdir():
                if entry.name != "__pycache__":
                    (target / entry.name).symlink_to(entry)
        else:
            target.symlink_to(ROOT / folder, target_is_directory=True)
    return into


@event_priority(100)  # before mkdocstrings reads its handler options
def on_config(config: Any) -> Any:
    global _api_tree
    if _api_tree is None:
        _api_tree = tempfile.TemporaryDirectory(prefix="livgym-api-")
        installed_tree(Path(_api_tree.name))
    python = config.plugins["mkdocstrings"].config.handlers.setdefault("python", {})
    python["paths"] = [_api_tree.name]
    extensions = python.setdefault("options", {}).setdefault("extensions", [])
    fences = f"{Path(__file__).with_name('doctest_fences.py')}:DoctestFences"
    if fences not in extensions:
        extensions.append(fences)
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return expand(markdown)


def on_shutdown() -> None:
    global _api_tree
    if _api_tree is not None:
        _api_tree.cleanup()  # removes the links, never what they point to
        _api_tree = None
