"""Each registry is the only list of its names, and the command line offers every one.

A name registered (a fidelity, a search method, a shipped space, an objective) appears in the
`--help` of the commands that take it, read from the registry when the parser is built; and
the light tables the parsers read without importing torch or SB3 agree with what the heavy
modules register.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import pytest

from livgym.cli import main
from livgym.controllers.methods.contract import SearchMethod
from livgym.controllers.methods.registry import METHODS
from livgym.envs import SPACES
from livgym.rewards.evaluation.evaluator import FIDELITIES, SHIPPED_FIDELITIES
from livgym.rewards.objectives import DEFAULT_OBJECTIVES


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """`livgym ARGV --help` as one line: wrapped lines joined, a name broken after a hyphen mended."""
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    return re.sub(r"(\w)- (\w)", r"\1-\2", text)


def missing(names: object, text: str) -> list[str]:
    return [name for name in names if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)]


@pytest.mark.parametrize("argv, registries", [
    (("evaluate",), {"fidelity": SHIPPED_FIDELITIES}),
    (("search",), {"method": METHODS, "space": SPACES, "objective": DEFAULT_OBJECTIVES}),
    (("compare",), {"method": METHODS, "space": SPACES, "objective": DEFAULT_OBJECTIVES}),
    (("space", "show"), {"space": SPACES}),
])
def test_every_registered_name_is_in_the_help(capsys, argv, registries):
    text = help_text(capsys, *argv)
    for what, registry in registries.items():
        assert not missing(registry, text), f"livgym {' '.join(argv)} --help lacks {what}(s) {missing(registry, text)}"


def test_a_method_registered_at_run_time_is_offered_too(capsys, monkeypatch):
    monkeypatch.setitem(METHODS, "greedy_walk", SearchMethod("greedy_walk", "m:P", "m:run", "hill climbing"))
    assert "greedy_walk hill climbing" in help_text(capsys, "search")


def test_the_shipped_fidelity_table_is_what_the_evaluator_modules_register():
    import livgym.rewards.evaluators  # noqa: F401  (registers every shipped fidelity)

    shipped = {name: factory.__module__ for name, factory in FIDELITIES.items()
               if factory.__module__.startswith("livgym.rewards.evaluators.")}
    assert shipped == {name: f"livgym.rewards.evaluators.{entry.module}" for name, entry in SHIPPED_FIDELITIES.items()}
    assert all(entry.summary for entry in SHIPPED_FIDELITIES.values())


def test_every_method_s_targets_load_a_parameters_dataclass_and_a_run_function():
    for name, method in METHODS.items():
        assert dataclasses.is_dataclass(method.params) and callable(method.run), name
        assert method.summary, name


def test_a_bad_target_is_named():
    method = SearchMethod("broken", "no_colon_here", "m:run", "broken")
    with pytest.raises(ValueError, match=r"method 'broken': params='no_colon_here' must name an object as module:attr"):
        method.params


def test_reading_the_registries_imports_no_heavy_module():
    code = ("import sys\n"
            "from livgym.controllers.methods.registry import METHODS\n"
            "from livgym.rewards.evaluation.evaluator import SHIPPED_FIDELITIES\n"
            "assert METHODS and SHIPPED_FIDELITIES\n"
            "import json; print(json.dumps([m for m in ('torch', 'stable_baselines3', 'sb3_contrib', 'optuna', "
            "'scipy', 'wandb') if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_model_based_search_is_on_by_default_for_the_methods_the_registry_marks():
    from livgym.controllers.methods.model_based import parse_settings

    settings = parse_settings({})
    assert {name for name in METHODS if settings.applies_to(name)} == \
        {name for name, method in METHODS.items() if method.model_based}
    assert 0 < sum(method.model_based for method in METHODS.values()) < len(METHODS)


def test_the_command_line_s_defaults_are_registered_names():
    from livgym.cli import build_parser
    from livgym.commands.evaluate import DEFAULT_FIDELITY

    assert DEFAULT_FIDELITY in SHIPPED_FIDELITIES
    compare = build_parser().parse_args(["compare"])
    assert set(compare.methods.split(",")) <= set(METHODS)
