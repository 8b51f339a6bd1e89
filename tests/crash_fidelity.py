"""A fidelity for backend tests: the analytic costs, except that a genome containing SWA (class
18) kills its worker process outright, as a segfault or an out-of-memory kill would."""

from __future__ import annotations

import os

from livgym.rewards.base import register_fidelity
from livgym.rewards.evaluators.efficiency import EfficiencyEvaluator, make_analytic


class CrashingEvaluator(EfficiencyEvaluator):
    name = "crash-test"

    def _measure(self, genome, seed):
        if any(slot.liv_class == 18 for slot in genome.slots):
            os._exit(3)
        return super()._measure(genome, seed)


def make_crash_test(**overrides) -> CrashingEvaluator:
    return CrashingEvaluator(make_analytic(**overrides).config, "crash-test")


register_fidelity("crash-test", make_crash_test)
