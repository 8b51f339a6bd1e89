"""Fidelities for backend tests: the analytic costs, except for some genomes, as a user's module
of own fidelities (`backend.imports`) would register them.

- `crash-test` kills its worker process outright for a genome containing SWA (class 18), as a
  segfault or an out-of-memory kill would (exit code 3). With `$LIVGYM_TEST_DIE_AFTER` naming
  a file, it first waits for that file to exist, so a test can choose the moment.
- `hang-test` never returns for a genome containing SWA, as a deadlocked kernel would.
- `fault-test` does both: SWA kills the worker, GConv-2-Diff (class 17) hangs it.

With `$LIVGYM_TEST_DIE_AT_STARTUP` set, a spawned worker process dies (exit code 4) while it
imports this module, as one whose start-up fails outside Python would; this process does not.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from livgym.rewards.evaluation.evaluator import register_fidelity
from livgym.rewards.evaluators.efficiency import EfficiencyEvaluator, make_analytic

DEADLY_CLASS, HANGING_CLASS = 18, 17
STARTUP_EXIT_CODE = 4

if os.environ.get("LIVGYM_TEST_DIE_AT_STARTUP") and multiprocessing.parent_process() is not None:
    os._exit(STARTUP_EXIT_CODE)


def _has(genome, class_id: int) -> bool:
    return any(slot.liv_class == class_id for slot in genome.slots)


def _die() -> None:
    signal_file = os.environ.get("LIVGYM_TEST_DIE_AFTER")
    if signal_file:
        deadline = time.monotonic() + 120
        while not Path(signal_file).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    os._exit(3)


class CrashingEvaluator(EfficiencyEvaluator):
    name = "crash-test"

    def _measure(self, genome, seed):
        if _has(genome, DEADLY_CLASS):
            _die()
        return super()._measure(genome, seed)


def make_crash_test(**overrides) -> CrashingEvaluator:
    return CrashingEvaluator(make_analytic(**overrides).config, "crash-test")


register_fidelity("crash-test", make_crash_test)


class HangingEvaluator(EfficiencyEvaluator):
    """Never returns for a genome containing SWA (class 18), as a deadlocked kernel would."""

    name = "hang-test"

    def _measure(self, genome, seed):
        if _has(genome, DEADLY_CLASS):
            time.sleep(3600)
        return super()._measure(genome, seed)


def make_hang_test(**overrides) -> HangingEvaluator:
    return HangingEvaluator(make_analytic(**overrides).config, "hang-test")


register_fidelity("hang-test", make_hang_test)


class FaultyEvaluator(EfficiencyEvaluator):
    """Kills its worker for a genome containing SWA, hangs for one containing GConv-2-Diff."""

    name = "fault-test"

    def _measure(self, genome, seed):
        if _has(genome, DEADLY_CLASS):
            _die()
        if _has(genome, HANGING_CLASS):
            time.sleep(3600)
        return super()._measure(genome, seed)


def make_fault_test(**overrides) -> FaultyEvaluator:
    return FaultyEvaluator(make_analytic(**overrides).config, "fault-test")


register_fidelity("fault-test", make_fault_test)
