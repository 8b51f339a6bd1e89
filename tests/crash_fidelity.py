"""Fidelities for backend tests: the analytic costs, except for a genome containing SWA (class
18): `crash-test` kills its worker process outright, as a segfault or an out-of-memory kill
would, and `hang-test` never returns, as a deadlocked kernel would."""

from __future__ import annotations

import os
import time

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


class HangingEvaluator(EfficiencyEvaluator):
    """Never returns for a genome containing SWA (class 18), as a deadlocked kernel would."""

    name = "hang-test"

    def _measure(self, genome, seed):
        if any(slot.liv_class == 18 for slot in genome.slots):
            time.sleep(3600)
        return super()._measure(genome, seed)


def make_hang_test(**overrides) -> HangingEvaluator:
    return HangingEvaluator(make_analytic(**overrides).config, "hang-test")


register_fidelity("hang-test", make_hang_test)
