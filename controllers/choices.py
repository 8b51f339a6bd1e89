"""The W&B modes the command line offers, importable without W&B, so that `livgym --help` and the
genome commands start in a fraction of a second. (Method names come from the method registry,
`livgym.controllers.methods.registry`, which is as light.)
"""

from __future__ import annotations

WANDB_MODES: tuple[str, ...] = ("offline", "online", "disabled")
DEFAULT_WANDB_MODE = "offline"  # needs no account, and keeps every run uploadable later
