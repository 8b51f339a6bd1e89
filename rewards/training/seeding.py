"""Seeding and thread count for a block of torch work, restored afterwards.

Model initialisation draws from torch's global RNG, so every evaluator builds its model inside
`seeded(seed, threads)`: the same genome and seed give the same weights in any process, and the
thread count an evaluation uses is its config's, not whatever the caller left set.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def seeded(seed: int, threads: int) -> Iterator[None]:
    """Run a block with torch's global RNG seeded and `threads` intra-op threads, restoring both.

    Model initialisation draws from the global RNG; data comes from explicit generators.
    """
    old_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(old_threads)
