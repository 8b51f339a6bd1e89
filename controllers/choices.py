"""The choices the command line offers (W&B modes, built-in search methods), importable without
SB3, torch or W&B, so that `livgym --help` and the genome commands start in a fraction of a second.

`BUILTIN_METHODS` lists the methods `livgym.controllers.methods.registry` registers, in its order (a test
checks the two agree); a method registered at run time is still accepted, since the command
line checks `--method` against the registry when the command runs.
"""

from __future__ import annotations

WANDB_MODES: tuple[str, ...] = ("offline", "online", "disabled")
DEFAULT_WANDB_MODE = "offline"  # needs no account, and keeps every run uploadable later
BUILTIN_METHODS: tuple[str, ...] = ("random", "evolution", "nsga2", "optuna", "maskable_ppo", "ppo", "a2c",
                                   "recurrent_ppo")
