"""A search config's `backend` section, and the backend it describes."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from livgym.known_names import check_known
from livgym.rewards.backends.base import EvaluationBackend
from livgym.rewards.backends.faults import check_retries_and_timeout
from livgym.rewards.backends.inline import InlineBackend
from livgym.rewards.backends.pool import ProcessPoolBackend
from livgym.rewards.backends.ray import RayBackend
from livgym.rewards.evaluation.store import EvaluationStore

BACKEND_KINDS: tuple[str, ...] = ("inline", "pool", "ray")


@dataclass(frozen=True)
class BackendConfig:
    """Where a search's evaluations run (the config file's `backend` section; one line each)."""

    kind: str = "inline"  # inline | pool (local processes) | ray (local or existing cluster)
    workers: int = 2  # pool: worker processes; ray without address: the local cluster's CPUs
    address: str | None = None  # ray: an existing cluster to join ("auto", "ray://host:10001", ...)
    retries: int = 1  # attempts after a worker died or hung, before the job is recorded as failed
    # a job running longer is hung (inline: then each job runs in a child process, to be killable);
    # pool and inline time it from when its worker starts it, ray from dispatch, so there a fresh
    # worker's start-up counts (None: no limit beyond the evaluator's own)
    timeout_s: float | None = None
    imports: tuple[str, ...] = ()  # modules to import first, on every backend (a user's own fidelities)

    def __post_init__(self) -> None:
        if self.kind not in BACKEND_KINDS:
            raise ValueError(f"backend kind={self.kind!r} is not one of {BACKEND_KINDS}")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"backend workers={self.workers!r} must be a positive integer")
        if self.address is not None and (self.kind != "ray" or not isinstance(self.address, str)):
            raise ValueError(f"backend address={self.address!r} applies to kind 'ray' only, as a string "
                             f"(kind is {self.kind!r})")
        if not isinstance(self.imports, (list, tuple)) or not all(isinstance(n, str) and n for n in self.imports):
            raise ValueError(f"backend imports={list(self.imports)!r} must be a list of module names")
        try:
            check_retries_and_timeout(self.retries, self.timeout_s)
        except ValueError as err:
            raise ValueError(f"backend {err}") from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackendConfig:
        if not isinstance(data, Mapping):
            raise ValueError(f"backend: expected a mapping of backend settings, got {type(data).__name__}: {data!r}")
        check_known(data, {f.name for f in fields(cls)}, "backend")
        values = dict(data)
        if "imports" in values:
            imports = values["imports"]
            if isinstance(imports, str) or not isinstance(imports, (list, tuple)):
                raise ValueError(f"backend imports={imports!r} must be a list of module names")
            values["imports"] = tuple(imports)
        return cls(**values)


def make_backend(config: BackendConfig | Mapping[str, Any], store: str | Path | EvaluationStore) -> EvaluationBackend:
    """The backend a config describes, answering from and writing to `store`."""
    if not isinstance(config, BackendConfig):
        config = BackendConfig.from_dict(config)
    if config.kind == "inline":
        return InlineBackend(store, config.imports, config.timeout_s, config.retries)
    if config.kind == "pool":
        return ProcessPoolBackend(store, config.workers, config.retries, config.imports, config.timeout_s)
    return RayBackend(store, config.address, None if config.address else config.workers, config.retries,
                      config.imports, config.timeout_s)
