"""What a backend is given and gives back: jobs, their evaluator's identity, outcomes, tickets.

Every job carries everything that determines its result, so a result does not depend on the
backend that ran it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from livgym.rewards.evaluation.result import EvaluationResult

StoreKey = tuple[str, str, str, int]  # (genome hash, evaluator name, config hash, seed)
# Context of `EvaluationJob.cost_hint`: mad-lite's task length, where `benchmarks/cost_predictor.py`
# measured how well the analytic FLOPs rank evaluation seconds (Spearman 0.7-0.8).
COST_HINT_CONTEXT = 32


@dataclass(frozen=True)
class EvaluatorIdentity:
    """What a result records about its evaluator, taken once from the evaluator a job is made for."""

    name: str
    fidelity: str
    config_hash: str
    config: Mapping[str, Any]

    @classmethod
    def of(cls, evaluator: Any) -> EvaluatorIdentity:
        return cls(evaluator.name, evaluator.fidelity, evaluator.config_hash(), evaluator.config_dict())


@dataclass(frozen=True)
class EvaluationJob:
    """One evaluation, fully specified: which fidelity, with which overrides, of which genome.

    `genome_hash` and `evaluator` (and so `key`) are worked out once: given by a caller that
    already has them (the search space), else from the fields above when first needed (in the
    calling process, which looks the key up in the store before sending the job anywhere, so
    a custom fidelity's module need only be imported by then).
    """

    fidelity: str
    genome: str  # the genome's string form (`Genome.to_string()`)
    seed: int = 0
    overrides: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    genome_hash: str | None = field(default=None, compare=False)
    evaluator: EvaluatorIdentity | None = field(default=None, compare=False)

    @classmethod
    def of(cls, fidelity: str, genome: str, seed: int = 0, **overrides: Any) -> EvaluationJob:
        return cls(fidelity, genome, seed, tuple(sorted(overrides.items())))

    @property
    def key(self) -> StoreKey:
        """The store key of this job's result."""
        return (self.canonical_hash, self.identity.name, self.identity.config_hash, self.seed)

    @property
    def canonical_hash(self) -> str:
        if self.genome_hash is None:
            from livgym.models.genome import Genome

            object.__setattr__(self, "genome_hash", Genome.from_string(self.genome).canonical_hash())
        return self.genome_hash  # type: ignore[return-value]

    @property
    def cost_hint(self) -> float:
        """The genome's analytic forward FLOPs at `COST_HINT_CONTEXT` tokens: a guess of how long
        the job runs, good only for ordering a batch (see `EvaluationBackend.run`)."""
        from livgym.models.cost import efficiency
        from livgym.models.genome import Genome

        return efficiency(Genome.from_string(self.genome), context_length=COST_HINT_CONTEXT).forward_flops

    @property
    def identity(self) -> EvaluatorIdentity:
        if self.evaluator is None:
            from livgym.rewards.evaluation.evaluator import make_evaluator

            made = make_evaluator(self.fidelity, **dict(self.overrides))
            object.__setattr__(self, "evaluator", EvaluatorIdentity.of(made))
        return self.evaluator  # type: ignore[return-value]


@dataclass(frozen=True)
class JobOutcome:
    result: EvaluationResult
    from_store: bool  # answered by the store (evaluated earlier, by anyone)


@dataclass(frozen=True)
class Ticket:
    """A submitted batch (`EvaluationBackend.submit`): its jobs' ids, in job order."""

    ids: tuple[int, ...]
