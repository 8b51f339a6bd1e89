"""LIV-Bench: the tabular benchmark over the LIV space, its table and known optima.

`bench` holds the space over the table and the known optima a search is scored against;
`table` generates and reads the table (`python -m livgym.envs.livbench.table`).
"""

from livgym.envs.livbench.bench import WEIGHTINGS, KnownOptima, LIVBenchSpace, known_optima

__all__ = ["WEIGHTINGS", "KnownOptima", "LIVBenchSpace", "known_optima"]
