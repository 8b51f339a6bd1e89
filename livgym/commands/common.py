"""What several sub-commands share: the search config argument, the evaluation store's location,
`--store` and `--wandb`, genomes named on the command line, `--device`, and the registries'
names the parsers offer.

Sub-commands import from here, never from each other, so each stays one command. Parsers are
built from light modules only; what a command needs of torch, SB3 or W&B it imports when it
runs, so `livgym --help` and the genome commands start in a fraction of a second. Every list of
names in a help text is read from its registry (fidelities, methods, shipped spaces,
objectives), never written out here, so a name registered there is offered here.
"""

from __future__ import annotations

import argparse
import difflib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from livgym.controllers.choices import DEFAULT_WANDB_MODE, WANDB_MODES
from livgym.controllers.methods.registry import METHODS
from livgym.envs import SPACES
from livgym.envs.tables.file import CHOICE_PREFIX, SUFFIXES
from livgym.models.genes import DEFAULT_HEADS, DEFAULT_WIDTH, HEADS
from livgym.models.genome import Genome
from livgym.models.reference import DEFAULT_DEPTH, REFERENCE_GENOMES, reference_genome
from livgym.rewards.evaluation.evaluator import make_evaluator
from livgym.rewards.objectives import DEFAULT_OBJECTIVES

if TYPE_CHECKING:
    from livgym.controllers.config import SearchConfig

DEFAULT_STORE = os.path.join("runs", "evaluations.sqlite")
STORE_VARIABLE = "LIVGYM_STORE"  # the environment variable that moves every command's default store
HEAD_DIM = DEFAULT_WIDTH // DEFAULT_HEADS  # --heads defaults to width / HEAD_DIM when --width is given


def names(registry: Iterable[str]) -> str:
    """A registry's names as a help text lists them (`a, b, c`), read when a parser is built, so
    that a name registered at run time before then is offered too."""
    return ", ".join(registry)


def method_table() -> str:
    """The registered methods and what each does, as a search command's `--help` ends (its parser
    built with `argparse.RawDescriptionHelpFormatter`, which keeps the rows)."""
    width = max(len(name) for name in METHODS)
    rows = [f"  {name:<{width}}  {method.summary}" for name, method in METHODS.items()]
    return "\n".join(["methods:", *rows])


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", help="YAML config file (default: the built-in defaults); its "
                        f"env.objectives name objectives from {names(DEFAULT_OBJECTIVES)}, or declare them "
                        "against a metric of the space")


def load_config(path: str | None) -> SearchConfig:
    """The search config in the YAML file at `path`, or the built-in defaults without one."""
    from livgym.controllers.config import SearchConfig

    return SearchConfig.from_yaml(path) if path else SearchConfig()


def add_space_argument(parser: argparse.ArgumentParser) -> None:
    """`--space SPEC`; a command applies it with `with_space`."""
    parser.add_argument("--space", metavar="SPEC", help=f"the design space, replacing the config's: a shipped one "
                        f"({names(SPACES)}), a table file ({names(SUFFIXES)}; choice columns named "
                        f"{CHOICE_PREFIX}*) or module:factory; the config's env section (objectives) stays")


def with_space(config: SearchConfig, spec: str | None) -> SearchConfig:
    """The config on `--space SPEC` (its env id following the space), or unchanged without one."""
    return config if spec is None else config.with_space(spec)


def check_runnable(config: SearchConfig) -> None:
    """Build the config's env once and close it (no store is opened), so that a bad space or env
    argument (an unknown fidelity, a bad override) is an error before a command prints anything."""
    config.make_env().close()


SURROGATE_CHOICES = {"on": True, "off": False, "auto": None}  # auto: each method's registry default


def add_surrogate_argument(parser: argparse.ArgumentParser) -> None:
    """`--surrogate on|off|auto`: model-based search (the config's `surrogate.enabled`)."""
    parser.add_argument("--surrogate", choices=tuple(SURROGATE_CHOICES),
                        help="model-based search: the method learns on a surrogate of the evaluator and only its "
                             "best proposals are evaluated for real (default: the config's; auto: on for "
                             f"{names(n for n, method in METHODS.items() if method.model_based)})")


def with_surrogate(config: SearchConfig, choice: str | None) -> SearchConfig:
    """The config with `--surrogate` applied, or unchanged without it."""
    if choice is None:
        return config
    return config.with_overrides(surrogate={**config.surrogate, "enabled": SURROGATE_CHOICES[choice]})


def add_store_argument(parser: argparse.ArgumentParser, note: str = "") -> None:
    """`--store FILE`; a command reads its value through `store_path`."""
    parser.add_argument("--store", help=f"evaluation store file (default ${STORE_VARIABLE} or {DEFAULT_STORE}{note})")


def store_path(given: str | Path | None) -> str:
    """The evaluation store a command uses: `--store`, else $LIVGYM_STORE, else the default. Read
    when the command runs (not when its parser is built), the same way by every command."""
    if given:
        return str(given)
    return os.environ.get(STORE_VARIABLE) or DEFAULT_STORE


def add_wandb_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """`--wandb MODE`, one of the W&B modes; None when not given (`wandb_mode` fills the default,
    and a resumed run its own)."""
    parser.add_argument("--wandb", choices=WANDB_MODES, help=help)


def wandb_mode(given: str | None) -> str:
    """`--wandb` as given, else the default mode (offline)."""
    return given or DEFAULT_WANDB_MODE


def device_override(fidelity: str, device: str) -> dict[str, str]:
    """The config override for `--device` (checked when the evaluator is made); an error for a
    fidelity that trains nothing."""
    if not hasattr(make_evaluator(fidelity).config, "train"):
        raise ValueError(f"--device {device}: fidelity {fidelity!r} trains nothing and runs on the CPU")
    return {"train.device": device}


def resolve_genome(text: str, width: int | None = None, heads: int | None = None, depth: int | None = None) -> Genome:
    """A genome from a reference name, a genome string or a JSON file path."""
    if heads is None and width is not None:
        heads = default_heads(width)
    if text.lower() in REFERENCE_GENOMES:
        return reference_genome(text.lower(), depth=DEFAULT_DEPTH if depth is None else depth,
                                width=DEFAULT_WIDTH if width is None else width,
                                heads=DEFAULT_HEADS if heads is None else heads)
    if depth is not None:
        raise ValueError(f"--depth applies to reference names ({', '.join(REFERENCE_GENOMES)}), not to {text!r}")
    path = Path(text)
    if text.endswith(".json") or path.is_file():
        if not path.is_file():
            raise ValueError(f"genome file {text!r} does not exist")
        try:
            genome = Genome.from_json(path.read_text())
        except ValueError as err:
            raise ValueError(f"{text}: {err}") from None
    elif text[:1].isalpha():  # genome strings start with a class id: this is meant as a name
        close = difflib.get_close_matches(text.lower(), list(REFERENCE_GENOMES), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown reference {text!r}{hint}; known: {', '.join(REFERENCE_GENOMES)}")
    else:
        genome = Genome.from_string(text)
    return genome if width is None else genome.with_width(width, heads)


def default_heads(width: int) -> int:
    heads = max(1, width // HEAD_DIM)
    if heads not in HEADS:
        raise ValueError(f"--width {width}: give --heads (width / {HEAD_DIM} = {heads} is not one of {HEADS})")
    return heads
