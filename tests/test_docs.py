"""The manual (docs/, built by `make docs`) keeps up with the code: every registered fidelity,
search method, env id, space and objective reaches it through the registry tables of
docs/hooks.py, every page is in the navigation, and the README's links and included sections
resolve. The strict build itself runs in CI (`make docs`); these checks take seconds."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
README = REPO / "README.md"
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
INCLUDE = re.compile(r'^--8<-- "README\.md:([a-z-]+)"$', flags=re.MULTILINE)


def load_hooks():
    spec = importlib.util.spec_from_file_location("livgym_docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hooks():
    return load_hooks()


@pytest.fixture(scope="module")
def manual(hooks) -> str:
    """Every page's Markdown with its registry tables and the README sections it includes."""
    readme = README.read_text()
    pages = [hooks.expand(page.read_text()) for page in sorted(DOCS.rglob("*.md"))]
    text = "\n".join(pages)
    return INCLUDE.sub(lambda m: readme_section(readme, m[1]), text)


def readme_section(readme: str, name: str) -> str:
    start, end = f"<!-- --8<-- [start:{name}] -->", f"<!-- --8<-- [end:{name}] -->"
    assert start in readme and end in readme, f"docs include README section {name!r}, which README.md does not mark"
    return readme[readme.index(start) + len(start):readme.index(end)]


def nav_pages(entries) -> list[str]:
    pages: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages.extend(nav_pages(value) if isinstance(value, list) else [value])
    return pages


class _AnyTagLoader(yaml.SafeLoader):
    """mkdocs.yml's own tags (`!relative`) read as their plain values."""


_AnyTagLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def test_every_registered_name_reaches_the_manual(hooks, manual):
    registries = {
        "fidelity": hooks.fidelities(), "search method": hooks.methods(), "env id": hooks.env_ids(),
        "shipped space": hooks.shipped_spaces(), "objective": hooks.objectives(), "scalariser": hooks.scalarisers(),
        "backend kind": hooks.backend_kinds(), "reference genome": hooks.reference_genomes(),
    }
    for what, names in registries.items():
        assert names, f"the {what} registry is empty"
        missing = [name for name in names if f"`{name}`" not in manual]
        assert not missing, f"{what}(s) {missing} are registered but not in the manual"
    assert all(f"| {c.name} |" in manual for c in hooks.liv_classes())


def test_every_table_and_marker_is_used_and_known(hooks):
    used = {(m["kind"], m["name"]) for page in DOCS.rglob("*.md") for m in hooks.MARKER.finditer(page.read_text())}
    known = {(kind, name) for kind, tables in hooks.MARKERS.items() for name in tables}
    assert used <= known, f"unknown markers {sorted(used - known)}"
    assert known <= used, f"tables no page shows: {sorted(known - used)}"


def test_every_page_is_in_the_navigation():
    config = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=_AnyTagLoader)
    listed = nav_pages(config["nav"])
    pages = sorted(str(page.relative_to(DOCS)) for page in DOCS.rglob("*.md"))
    assert sorted(listed) == pages, f"in the nav only: {sorted(set(listed) - set(pages))}; " \
                                    f"pages left out of it: {sorted(set(pages) - set(listed))}"


def test_the_readme_links_resolve():
    text = README.read_text()
    targets = [t for t in LINK.findall(text) if not re.match(r"[a-z]+://", t)]
    assert targets, "the README links into the manual"
    for target in targets:
        path, _, anchor = target.partition("#")
        assert (REPO / path).exists(), f"README links to {target}, which does not exist"
        if anchor:
            headings = {slug(h) for h in re.findall(r"^#+ (.+)$", (REPO / path).read_text(), flags=re.MULTILINE)}
            assert anchor in headings, f"README links to {target}: no such heading"


def slug(heading: str) -> str:
    """Python-Markdown's heading id."""
    text = re.sub(r"[^\w\s-]", "", heading).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def test_the_readme_sections_the_manual_includes_hold_no_links():
    readme = README.read_text()
    names = {m for page in DOCS.rglob("*.md") for m in INCLUDE.findall(page.read_text())}
    assert names, "the manual includes README sections"
    for name in sorted(names):
        assert not LINK.findall(readme_section(readme, name)), \
            f"README section {name!r} is also a docs page's: a relative link would break there"


def test_where_to_add_names_real_files_and_registries():
    page = (DOCS / "where-to-add.md").read_text()
    paths = re.findall(r"`((?:[a-z_]+/)+(?:[a-z_]+\.py)?)`( \(new\))?", page)
    assert paths, "the page names the files to write and to register in"
    for path, new in paths:
        where = (REPO / path).parent if new else REPO / path
        assert where.exists(), f"where-to-add.md names {path}{new}, but {where.relative_to(REPO)} does not exist"
    registers = re.findall(r"\*\*Register\*\* in `([^`]+)`[^`]*`([A-Z_]+)`", page)
    assert len(registers) == 6, "one registry per kind: LIV class, method, fidelity, space, objective, backend"
    for path, name in registers:
        assert re.search(rf"^{name}\b[^\n]*=", (REPO / path).read_text(), flags=re.MULTILINE), \
            f"where-to-add.md registers in {path}'s {name}, which that file does not define"
