"""What one evaluation of one genome produced, as stored in the evaluation store.

Failures are results too: a NaN loss ends as `diverged`, an exception as `failed`, a time
limit as `timeout`, each with its error text, so a search records them and carries on. Those
are facts about the design and are kept for good. A `lost` evaluation is not: its worker never
ran the design (it could not start), or a fault outside the design ended it (every job of its
batch killed its worker the same way). It is recorded, with its cause, so a search can carry
on, but it answers no later lookup: the next evaluation of its key runs again and replaces it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Mapping

from livgym.version import __version__

Status = Literal["ok", "diverged", "failed", "timeout", "lost"]
STATUSES: tuple[str, ...] = ("ok", "diverged", "failed", "timeout", "lost")
#: statuses that say nothing about the design, so a store never answers with them (see above)
TRANSIENT_STATUSES: tuple[str, ...] = ("lost",)


def config_hash(config: Mapping[str, Any]) -> str:
    """A 16-hex-digit hash of a JSON-serialisable config (key order does not matter)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class EvaluationResult:
    """One evaluation: its key (genome hash, evaluator, config hash, seed) and what it measured."""

    genome_hash: str
    genome: str  # the genome's lossless string form, so a stored result can be rebuilt
    evaluator: str  # evaluator name, e.g. "mad-lite"
    fidelity: str  # fidelity name, e.g. "mad-lite-short"
    config_hash: str
    seed: int
    status: Status
    metrics: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    wall_time: float = 0.0
    library_version: str = __version__
    timestamp: float = field(default_factory=time.time)
    # who computed it (backend kind, host, process id); not part of the key, empty in old stores
    computed_by: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status={self.status!r} is not one of {STATUSES}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def permanent(self) -> bool:
        """Whether this result is the design's own, kept for good (every status but `lost`)."""
        return self.status not in TRANSIENT_STATUSES

    def computed_here(self, backend: str) -> EvaluationResult:
        """This result, recorded as computed by this process on a backend of kind `backend`."""
        return replace(self, computed_by=this_process(backend))

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.genome_hash, self.evaluator, self.config_hash, self.seed)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["metrics"] = {k: _json_float(v) for k, v in self.metrics.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationResult:
        fields = dict(data)
        fields["metrics"] = {k: (math.nan if v is None else float(v)) for k, v in dict(fields.get("metrics") or {}).items()}
        fields["computed_by"] = dict(fields.get("computed_by") or {})
        return cls(**fields)


def this_process(backend: str) -> dict[str, Any]:
    """Who is computing, as a result's `computed_by` records it."""
    return {"backend": backend, "host": socket.gethostname(), "pid": os.getpid()}


def _json_float(value: float) -> float | None:
    """NaN and infinities are not JSON: store them as null (read back as NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None
