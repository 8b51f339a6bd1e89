"""Evaluator implementations; importing this package registers every shipped fidelity.

Which fidelities there are, and what each measures, is `SHIPPED_FIDELITIES` in
`livgym.rewards.evaluation.evaluator` (also `livgym evaluate --help`): this package imports each
module that table names, in name order.
"""

import importlib

from livgym.rewards.evaluation.evaluator import SHIPPED_FIDELITIES

for _module in sorted({shipped.module for shipped in SHIPPED_FIDELITIES.values()}):
    importlib.import_module(f"{__name__}.{_module}")
