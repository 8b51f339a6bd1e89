"""Jobs that no evaluator answered: how their attempts ended, and the results recorded for them.

A job that killed or hung its worker on every attempt is stored as `failed` / `timeout`. A
failure that is not the design's is stored as `lost`, which a later run evaluates again: a job
whose worker never ran it (the worker could not import `imports`, or died or hung while
starting), and every job of a stream of two or more that all killed their workers the same way
(a fault of the workers' environment, such as a broken device, rather than of each design).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping

from livgym.rewards.backends.jobs import EvaluationJob
from livgym.rewards.evaluation.result import EvaluationResult, this_process


@dataclass
class Deaths:
    """How one job's attempts alone ended when none returned a result."""

    died: list[str] = field(default_factory=list)  # attempts that ran the job and lost the worker: how
    hangs: int = 0  # attempts that ran the job past timeout_s
    unstarted: list[str] = field(default_factory=list)  # attempts whose worker never ran the job: why

    @property
    def ran(self) -> bool:
        return bool(self.died or self.hangs)


def record_deaths(jobs: Mapping[int, EvaluationJob], deaths: Mapping[int, Deaths], finished: int, attempts: int,
                  timeout_s: float | None, backend: str) -> Iterator[tuple[int, EvaluationResult]]:
    """The results of a stream's jobs that never finished (`finished`: how many of its jobs did):
    `failed` / `timeout` when the design killed or hung its worker, `lost` when the fault was
    not the design's."""
    same_death = (finished == 0 and len(deaths) >= 2
                  and all(d.died and not d.hangs for d in deaths.values())
                  and len({tuple(d.died) for d in deaths.values()}) == 1)
    for i in sorted(deaths):
        d = deaths[i]
        if not d.ran:
            why = "; ".join(dict.fromkeys(d.unstarted))
            yield i, record(jobs[i], "lost", f"{why}, so it never ran this job (not the design's failure; "
                                             f"a later run evaluates it again)", backend)
        elif same_death:
            yield i, record(jobs[i], "lost", f"all {len(deaths)} jobs of the batch killed their worker process "
                                             f"the same way ({d.died[0]}): taken as a fault of the workers, not "
                                             f"of the designs (a later run evaluates them again)", backend)
        else:
            yield i, record(jobs[i], "timeout" if d.hangs == attempts else "failed",
                            _death_note(d, timeout_s), backend)


def _death_note(deaths: Deaths, timeout_s: float | None) -> str:
    parts = []
    if deaths.died:
        how = ", ".join(dict.fromkeys(deaths.died))
        parts.append(f"the worker process died {len(deaths.died)} time(s) while evaluating ({how})")
    if deaths.hangs:
        parts.append(f"the evaluation hung {deaths.hangs} time(s) (no result within timeout_s={timeout_s} s; "
                     f"the worker was killed)")
    if deaths.unstarted:
        why = "; ".join(dict.fromkeys(deaths.unstarted))
        parts.append(f"{len(deaths.unstarted)} other attempt(s) never ran it ({why})")
    return "; ".join(parts)


def check_retries_and_timeout(retries: int, timeout_s: float | None) -> None:
    """The fault settings every backend takes, checked where the backend is made."""
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries={retries!r} must be a non-negative integer")
    if timeout_s is not None and (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float))
                                  or not 0 < timeout_s < float("inf")):
        raise ValueError(f"timeout_s={timeout_s!r} must be a positive number of seconds (or None for no limit)")


def record(job: EvaluationJob, status: str, error: str, backend: str) -> EvaluationResult:
    """The result of a job that no evaluator returned (its worker died, hung or never ran it),
    made from what the job carries; recorded by this process."""
    identity = job.identity
    return EvaluationResult(
        genome_hash=job.canonical_hash, genome=job.genome, evaluator=identity.name,
        fidelity=identity.fidelity, config_hash=identity.config_hash, seed=job.seed,
        status=status, config=dict(identity.config), error=error,  # type: ignore[arg-type]
        computed_by=this_process(backend))
