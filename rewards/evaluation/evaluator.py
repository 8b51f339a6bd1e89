"""The evaluator interface and its registry.

An evaluator turns a genome and a seed into an `EvaluationResult`. Its full configuration is a
dataclass whose hash keys the evaluation store, so a result is only reused under the exact
settings that produced it. Adding an evaluator is one class and one `register` call.
"""

from __future__ import annotations

import math
import time
import traceback
from abc import ABC, abstractmethod
from dataclasses import asdict, fields, is_dataclass, replace
from typing import Any, Callable, ClassVar, Mapping, NamedTuple

from livgym.known_names import check_known
from livgym.models.cost import DEFAULT_CONTEXT_LENGTH, DEFAULT_VOCAB_SIZE
from livgym.models.genome import Genome
from livgym.rewards.config_types import check_types
from livgym.rewards.evaluation.result import EvaluationResult, config_hash


class EvaluationTimeout(Exception):
    """Raised inside an evaluation that ran past its time limit; recorded as `timeout`."""


class Diverged(Exception):
    """Raised inside an evaluation whose loss became NaN or infinite; recorded as `diverged`."""


class Evaluator(ABC):
    """Base class: subclasses set `name`, hold a dataclass `config` and implement `_measure`."""

    name: ClassVar[str]

    def __init__(self, config: Any, fidelity: str | None = None) -> None:
        if not is_dataclass(config):
            raise TypeError(f"{type(self).__name__} needs a dataclass config, got {type(config).__name__}")
        self.config = config
        self.fidelity = fidelity or self.name

    def config_dict(self) -> dict[str, Any]:
        return {"evaluator": self.name, **asdict(self.config)}

    def config_hash(self) -> str:
        """The hash keying the store: the config without its unhashed fields (the device)."""
        return config_hash(without_paths(self.config_dict(), unhashed_paths(self.config)))

    def objective_overrides(self) -> dict[str, dict[str, float]]:
        """Reference points (`Objective` fields by objective name) for the metrics this evaluator
        reports where the default objectives' do not fit them, e.g. a quality on its own scale.

        Empty by default: an accuracy-like `quality` in [0, 1] (mad-lite's mean accuracy,
        byte-lm's 1 - bits per byte / 8) is what the default quality objective measures. An env
        built on the evaluator applies these under the user's own overrides.
        """
        return {}

    def ran_on(self) -> str | None:
        """Where `_measure` computes, recorded with each result; None if it has no device setting."""
        return None

    def evaluate(self, genome: Genome, seed: int = 0) -> EvaluationResult:
        """Measure `genome`; never raises for failures inside the evaluation (see `Status`)."""
        start = time.perf_counter()
        status, metrics, error, ran_on = "ok", {}, None, None
        try:
            ran_on = self.ran_on()
            metrics = self._measure(genome, seed)
            if any(not math.isfinite(v) for v in metrics.values()):
                status, error = "diverged", "a metric is NaN or infinite"
        except Diverged as err:
            status, error = "diverged", str(err)
        except EvaluationTimeout as err:
            status, error = "timeout", str(err)
        except Exception as err:  # noqa: BLE001 - any failure in a candidate is a recorded result
            status, error = "failed", f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=4)}"
        return EvaluationResult(
            genome_hash=genome.canonical_hash(), genome=genome.to_string(), evaluator=self.name,
            fidelity=self.fidelity, config_hash=self.config_hash(), seed=seed, status=status,  # type: ignore[arg-type]
            metrics={k: float(v) for k, v in metrics.items()}, error=error,
            config={**self.config_dict(), **({"ran_on": ran_on} if ran_on else {})},
            wall_time=time.perf_counter() - start)

    @abstractmethod
    def _measure(self, genome: Genome, seed: int) -> dict[str, float]:
        """The metrics; raise Diverged / EvaluationTimeout / anything for a failed evaluation."""


# fidelity name -> factory(**overrides) -> Evaluator
FIDELITIES: dict[str, Callable[..., Evaluator]] = {}


class ShippedFidelity(NamedTuple):
    factory: str  # "module:function" under `livgym.rewards.evaluators`, imported on first use (torch)
    summary: str  # one line: what it measures

    @property
    def module(self) -> str:
        return self.factory.partition(":")[0]


#: the fidelities this package ships, the only list of them: importing `livgym.rewards.evaluators`
#: registers each factory in `FIDELITIES`, and the command line and the docs name them from here
#: without importing torch. Adding a fidelity is its module and one line here.
SHIPPED_FIDELITIES: dict[str, ShippedFidelity] = {
    "mad-lite": ShippedFidelity("mad_lite:make_mad_lite",
                                "MAD's six synthetic tasks at proxy scale (600 updates, mixture)"),
    "mad-lite-short": ShippedFidelity("mad_lite:make_mad_lite_short", "the same with a quarter of the updates"),
    "mad-lite-long": ShippedFidelity("mad_lite:make_mad_lite_long",
                                     "the same with four times the updates (the fidelity reference)"),
    "livbench": ShippedFidelity("mad_lite:make_livbench", "LIV-Bench's table fidelity: three MAD tasks, 48 updates each"),
    "byte-lm": ShippedFidelity("byte_lm:make_byte_lm", "held-out bits per byte on the Python standard library's source"),
    "zero-cost": ShippedFidelity("zero_cost:make_zero_cost", "grad_norm / snip / synflow at initialisation"),
    "efficiency": ShippedFidelity("efficiency:make_efficiency",
                                  "analytic params / cache / FLOPs and measured decode latency"),
    "analytic": ShippedFidelity("efficiency:make_analytic", "the analytic metrics alone (microseconds)"),
}


def register_fidelity(name: str, factory: Callable[..., Evaluator]) -> None:
    """Make `factory(**overrides)` the evaluator of fidelity `name` (a user's own fidelity; the
    shipped ones are `SHIPPED_FIDELITIES`)."""
    FIDELITIES[name] = factory


def make_evaluator(fidelity: str, **overrides: Any) -> Evaluator:
    """The evaluator for a fidelity name, with config fields overridden by keyword."""
    # Importing the evaluator modules registers their fidelities.
    import livgym.rewards.evaluators  # noqa: F401

    if fidelity not in FIDELITIES:
        raise ValueError(f"unknown fidelity {fidelity!r}; known: {', '.join(sorted(FIDELITIES))}")
    return FIDELITIES[fidelity](**overrides)


#: where an evaluator config without the setting reports its analytic metrics
ANALYTIC_DEFAULTS: dict[str, int] = {"context_length": DEFAULT_CONTEXT_LENGTH, "vocab_size": DEFAULT_VOCAB_SIZE}


def analytic_overrides(fidelity: str, overrides: Mapping[str, Any], **settings: int) -> dict[str, Any]:
    """`overrides` for `fidelity` with the caller's analytic settings (`context_length`,
    `vocab_size`) added, so that the evaluator reports params, cache bytes and FLOPs where the
    caller (a search space's masks and observations) measures its own.

    A setting is added only where it differs from the fidelity's config, so default settings
    leave the config and its hash as they are. The setting has one home, the caller: an
    override that sets it to another value is an error, and so is a value other than the
    default for a fidelity whose config has no such field (it reports at `ANALYTIC_DEFAULTS`).
    """
    check_known(settings, set(ANALYTIC_DEFAULTS), what="analytic setting")
    config = make_evaluator(fidelity, **overrides).config
    known = {f.name for f in fields(config)}
    out = dict(overrides)
    for name, value in settings.items():
        if name in overrides and overrides[name] != value:
            raise ValueError(f"fidelity_overrides sets {name}={overrides[name]!r} but the search space's {name} is "
                             f"{value!r}; set {name} once, on the space")
        if name in known:
            if getattr(config, name) != value:
                out[name] = value
        elif value != ANALYTIC_DEFAULTS[name]:
            raise ValueError(f"{name}={value!r}: fidelity {fidelity!r} has no {name} setting and reports its "
                             f"analytic metrics at {name}={ANALYTIC_DEFAULTS[name]}")
    return out


def replace_config(config: Any, overrides: dict[str, Any], where: str) -> Any:
    """A copy of dataclass `config` with `overrides` applied, checked key by key.

    Keys may be dotted (`train.steps`) and values for nested dataclasses may be dicts, as they
    come from YAML or `--set`; an unknown key is an error naming it and listing the known ones.
    """
    known = {f.name: f for f in fields(config)}
    changes: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in overrides.items():
        head, _, rest = key.partition(".")
        if head not in known:
            raise ValueError(f"{where}: unknown config key {key!r}; known: {sorted(known)}")
        sub = getattr(config, head)
        if rest or (isinstance(value, dict) and is_dataclass(sub)):
            if not is_dataclass(sub):
                raise ValueError(f"{where}: config key {head!r} has no sub-keys (got {key!r})")
            nested.setdefault(head, {}).update({rest: value} if rest else value)
        else:
            changes[head] = tuple(value) if isinstance(value, list) else value
    check_types(type(config), changes, f"{where}: ")
    for head, sub_overrides in nested.items():
        changes[head] = replace_config(getattr(config, head), sub_overrides, f"{where}.{head}")
    try:
        return replace(config, **changes)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None


def unhashed_paths(config: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of the dataclass fields marked `metadata={"hashed": False}`, at any depth."""
    paths: list[tuple[str, ...]] = []
    for f in fields(config):
        path = (*prefix, f.name)
        if not f.metadata.get("hashed", True):
            paths.append(path)
        elif is_dataclass(value := getattr(config, f.name)):
            paths.extend(unhashed_paths(value, path))
    return paths


def without_paths(config: dict[str, Any], paths: list[tuple[str, ...]]) -> dict[str, Any]:
    """A copy of a nested config dict with the given key paths removed."""
    out = dict(config)
    for path in paths:
        node = out
        for key in path[:-1]:
            node[key] = dict(node[key])
            node = node[key]
        node.pop(path[-1], None)
    return out
