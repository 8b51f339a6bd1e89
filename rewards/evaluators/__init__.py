"""Evaluator implementations, one module per family; importing this package registers every
shipped fidelity.

Which fidelities there are, what each measures and which factory makes it is
`SHIPPED_FIDELITIES` in `livgym.rewards.evaluation.evaluator` (also `livgym evaluate --help`):
the one list, read here.
"""

import importlib

from livgym.rewards.evaluation.evaluator import SHIPPED_FIDELITIES, register_fidelity

for _name, _shipped in SHIPPED_FIDELITIES.items():
    _module, _, _function = _shipped.factory.partition(":")
    register_fidelity(_name, getattr(importlib.import_module(f"{__name__}.{_module}"), _function))
