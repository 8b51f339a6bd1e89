"""Every parser of user input, and the CLI, refuses bad input with one line naming what is wrong.

Each `Target` is a parser (genome JSON / dict / string / vector, objective names, `--set`
overrides, search config YAML) or a CLI command, fed hostile inputs from `strategies`: arbitrary
JSON values, text, integer and float vectors (inf and NaN included) and YAML configs, mostly
near misses of valid input. A parser may accept its input or raise a `ValueError` whose message
is one line and names a field; anything else (a TypeError, an OverflowError, a message naming
nothing) fails. A CLI command may exit 0, or exit 2 with one `livgym: error: ...` line and no
traceback. The default suite runs a few dozen examples per target; `benchmarks/fuzz_parsers.py`
runs thousands and counts the outcomes.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import strategies as s
from livgym.cli import main
from livgym.controllers.config import SearchConfig
from livgym.controllers.methods.registry import METHODS
from livgym.models.genome import SLOT_GENE_NAMES, Genome
from livgym.models.registry import CLASS_GENE_NAMES
import livgym.rewards.evaluators  # noqa: F401  (registers the fidelities)
from livgym.rewards.evaluation.evaluator import FIDELITIES, make_evaluator
from livgym.rewards.objectives import ObjectiveSet

# Every working file of the fuzzed commands (configs, stores, run folders) goes here.
SCRATCH = Path(tempfile.mkdtemp(prefix="livgym-fuzz-"))

GENOME_WORDS = (*SLOT_GENE_NAMES, *CLASS_GENE_NAMES, "width", "heads", "slots", "class_overrides", "class override",
                "genome", "notation", "format", "depth", "vector", "class")
CONFIG_WORDS = (*s.SEARCH_KEYS, *s.SPACE_KEYS, *s.ENV_KEYS, *s.BACKEND_KEYS, *GENOME_WORDS, "config", "objective",
                "scalariser", "method", "key", "constraint", "metric", "reference", "table", "store", "evaluator",
                *(f.name for m in METHODS.values() for f in fields(m.params)))
SET_WORDS = ("--set", "config key", *s.SET_KEYS, *FIDELITIES)


@dataclass(frozen=True)
class Target:
    """One parser or command, its hostile inputs, and the words a refusal must name one of."""

    name: str
    inputs: st.SearchStrategy
    call: Callable[[Any], object]
    vocabulary: tuple[str, ...] = ()  # for a parser: an error message names one of these
    cli: bool = False  # a command: judged by its exit status and output instead


class BadRefusal(AssertionError):
    """A parser or command refused an input the wrong way (the message says how)."""


# ---- parsers --------------------------------------------------------------------------------


def _set_overrides(value: tuple[str, list[tuple[str, str]]]) -> object:
    from livgym.commands.evaluate import parse_overrides

    fidelity, items = value
    return make_evaluator(fidelity, **parse_overrides([f"{k}={v}" for k, v in items]))


def _search_config(text: str) -> object:
    """The config file parsed, then everything a search builds from it before evaluating."""
    path = SCRATCH / "fuzzed.yaml"
    path.write_text(text)
    config = SearchConfig.from_yaml(path)
    config.make_env(None).close()
    config.backend_config()
    return config.method_params()


# ---- commands --------------------------------------------------------------------------------


class _Parsed(Exception):
    """Raised in place of running a search whose config parsed: the command accepted it."""


def _parse_only(config: SearchConfig, out: Any, store: Any = None, **_: Any) -> object:
    config.make_env(store).close()
    config.backend_config()
    config.method_params()
    raise _Parsed


def _cli(argv: list[str]) -> tuple[int, str]:
    """`livgym argv` in this process: (exit status, stderr); argparse's own refusals exit 2."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse: usage and one error line
            code = exit_.code if isinstance(exit_.code, int) else 2
            if code != 2 or "error:" not in err.getvalue():
                raise BadRefusal(f"argparse exited {exit_.code!r}: {err.getvalue()!r}") from None
            return -2, err.getvalue()
    return code, err.getvalue()


def _cli_genome_show(text: str) -> tuple[int, str]:
    return _cli(["genome", "show", "--json", "--", text])


def _cli_evaluate(value: tuple[str, list[tuple[str, str]]]) -> tuple[int, str]:
    text, items = value
    sets = [f"--set={k}={v}" for k, v in items]
    return _cli(["evaluate", "--fidelity", "analytic", "--store", str(SCRATCH / "evaluate.sqlite"), *sets, "--", text])


def _cli_search(text: str) -> tuple[int, str]:
    path = SCRATCH / "search.yaml"
    path.write_text(text)
    with mock.patch("livgym.controllers.search.run_search", _parse_only):
        try:
            return _cli(["search", str(path), "--store", str(SCRATCH / "search.sqlite"), "--wandb", "disabled",
                         "--out", str(SCRATCH / "run")])
        except _Parsed:
            return 0, ""


# Real argv strings hold no NUL byte and no lone surrogate; in-process ones could.
argv_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
argv_genome = s.genome_texts().filter(lambda t: "\x00" not in t and t.encode("utf-8", "ignore").decode() == t)
argv_sets = st.lists(s.set_items.filter(lambda kv: all(t == t.encode("utf-8", "ignore").decode() and "\x00" not in t
                                                       for t in kv)), max_size=2)
config_yaml = s.search_config_yaml({name: tuple(f.name for f in fields(m.params)) for name, m in METHODS.items()})

TARGETS: tuple[Target, ...] = (
    Target("genome JSON", s.genome_json_values.map(lambda v: json.dumps(v)) | st.text(max_size=40),
           Genome.from_json, GENOME_WORDS),
    Target("genome dict", s.genome_json_values, Genome.from_dict, GENOME_WORDS),
    Target("genome string", s.genome_texts(), Genome.from_string, GENOME_WORDS),
    Target("genome vector", s.genome_vectors(), lambda v: Genome.from_vector(v, 4), GENOME_WORDS),
    Target("objective names", st.tuples(s.objective_names, s.objective_overrides),
           lambda v: ObjectiveSet.from_names(v[0], **v[1]), ("objective",)),
    Target("--set overrides", st.tuples(st.sampled_from(sorted(FIDELITIES)), st.lists(s.set_items, max_size=3)),
           _set_overrides, SET_WORDS),
    Target("search config YAML", config_yaml, _search_config, CONFIG_WORDS),
    Target("livgym genome show", argv_genome | argv_text, _cli_genome_show, cli=True),
    Target("livgym evaluate", st.tuples(argv_genome, argv_sets), _cli_evaluate, cli=True),
    Target("livgym search", config_yaml, _cli_search, cli=True),
)


def judge(target: Target, value: Any) -> str:
    """How `target` took `value`: "accepted", "exit 2", or the ValueError's type name; a
    `BadRefusal` for any other outcome."""
    if target.cli:
        try:
            code, err = target.call(value)
        except BadRefusal:
            raise
        except BaseException as error:  # noqa: BLE001 - escaping the CLI at all is the failure
            raise BadRefusal(f"{type(error).__name__} escaped the CLI: {error}") from error
        if code == -2:
            return "argparse refusal"
        if code == 0:
            return "accepted"
        lines = err.splitlines()
        if code != 2 or len(lines) != 1 or not lines[0].startswith("livgym: error: ") or "Traceback" in err:
            raise BadRefusal(f"exit {code} with stderr {err!r}")
        return "exit 2"
    try:
        target.call(value)
    except ValueError as error:
        message = str(error)
        if "\n" in message.strip() or not message.strip():
            raise BadRefusal(f"{type(error).__name__} message is not one line: {message!r}") from error
        if not any(word in message for word in target.vocabulary):
            raise BadRefusal(f"{type(error).__name__} names no field: {message!r}") from error
        return type(error).__name__
    except Exception as error:  # noqa: BLE001 - anything but a ValueError is the failure looked for
        raise BadRefusal(f"{type(error).__name__} (not a ValueError): {error}") from error
    return "accepted"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_every_parser_and_command_refuses_bad_input_in_one_line_naming_the_field(target: Target) -> None:
    @settings(max_examples=25 if target.cli else 40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(target.inputs)
    def check(value: Any) -> None:
        judge(target, value)

    check()


# ---- the inputs that used to escape as tracebacks, one by one -----------------------------------

PARSED = {t.name: t for t in TARGETS}


@pytest.mark.parametrize("target, value, named", [
    ("genome JSON", '{"slots": [{"liv_class": Infinity}]}', "slots[0].liv_class"),
    ("genome JSON", '{"slots": 5}', "slots"),
    ("genome JSON", '{"slots": [[1]], "class_overrides": {"1": 7}}', "class_overrides[1]"),
    ("genome JSON", '{"slots": [[1]], "class_overrides": [1]}', "class_overrides"),
    ("genome JSON", '{"slots": [[1]], "class_overrides": {"1": {"mixing": 1.5}}}', "class_overrides"),
    ("genome vector", [1.0] * 7 + [float("inf")] + [1.0] * 251, "slots[1].liv_class"),
    ("genome vector", [1.0] * 7 + [float("nan")] + [1.0] * 251, "slots[1].liv_class"),
    ("genome string", "\u0663\u0661\u0661\u0661\u0661", "slots[0]"),  # Arabic-Indic "31111"
    ("genome string", "31111@w\u0663h1", "globals"),
    ("objective names", (1.5, {}), "objectives=1.5"),
    ("objective names", (["quality"], {"quality": {"ideal": "high"}}), "ideal"),
    ("--set overrides", ("zero-cost", [("width", "abc")]), "width='abc'"),
    ("search config YAML", "env: {objectives: 1.5}\n", "objectives=1.5"),
    ("search config YAML", "space: {classes: [[1, 2]]}\n", "classes=[[1, 2]]"),
    ("search config YAML", "space: {max_depth: 9223372036854775808}\n", "max_depth=9223372036854775808"),
])
def test_the_inputs_found_by_fuzzing_are_value_errors_naming_the_field(target: str, value: Any, named: str) -> None:
    with pytest.raises(ValueError) as raised:
        PARSED[target].call(value)
    assert named in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("config, named", [("env: {objectives: 1.5}\n", "objectives=1.5"),
                                           ("space: {classes: [[1, 2]]}\n", "classes=[[1, 2]]"),
                                           ("space: {max_depth: 9223372036854775808}\n", "max_depth="),
                                           ("space: {fidelity: [1]}\n", "fidelity=[1]"),
                                           ("a: [\n", "is not valid YAML")])
def test_the_search_command_refuses_those_configs_in_one_line(config: str, named: str) -> None:
    code, err = _cli_search(config)
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("livgym: error: ") and named in err


def test_evaluate_refuses_a_bad_setting_before_any_work_and_stores_nothing(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    code, err = _cli(["evaluate", "91111@w64h4", "--fidelity", "zero-cost", "--set", "width=abc",
                      "--store", str(store)])
    assert code == 2 and err.startswith("livgym: error: ") and "width='abc'" in err and len(err.splitlines()) == 1
    assert not store.exists(), "nothing entered the store"
