"""Features extractors for the design env's Dict observation (SB3's `features_extractor_class`).

`combined` is SB3's own (every entry one-hot and concatenated; the default). `slots` reads the
LIV space's stack of slots with one small network shared by every slot, so what the policy
learns about a class or a sharing gene at one position carries over to every other position,
where SB3's flat one-hot gives each position's copy of a gene its own weights.
"""

from __future__ import annotations

import torch
from gymnasium import spaces
from stable_baselines3.common.preprocessing import get_flattened_obs_dim
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, CombinedExtractor
from torch import nn


class IntCombinedExtractor(CombinedExtractor):
    """SB3's Dict extractor with a Python-int `features_dim`: SB3 sums a MultiDiscrete's nvec
    into a NumPy integer, which torch's LSTM (RecurrentPPO) rejects as an input size."""

    def __init__(self, observation_space: spaces.Dict, **kwargs) -> None:
        super().__init__(observation_space, **kwargs)
        self._features_dim = int(self._features_dim)


class SlotSetExtractor(BaseFeaturesExtractor):
    """A shared per-slot encoder for observations with `slots` and `slot_mask` entries.

    Each present slot's one-hot genes, with a one-hot of its position (the actions name
    positions), go through the same two-layer MLP; absent slots give zeros. The features are
    every slot's encoding in order (so a policy can tell which slot to edit), their mean over
    the present slots (a summary of the whole stack) and the other entries (`metrics`,
    `budget`) flattened as SB3 flattens them.

    :param observation_space: the env's Dict space; `slots` must be a MultiDiscrete of
        `len(slot_mask)` equal rows, one per slot
    :param slot_dim: width of each slot's encoding
    """

    def __init__(self, observation_space: spaces.Dict, slot_dim: int = 16) -> None:
        if not isinstance(observation_space, spaces.Dict) or not {"slots", "slot_mask"} <= set(observation_space.spaces):
            keys = sorted(observation_space.spaces) if isinstance(observation_space, spaces.Dict) else observation_space
            raise ValueError(f"extractor 'slots' needs a Dict observation with 'slots' and 'slot_mask' entries "
                             f"(the LIV space's), got {keys}")
        slots, mask = observation_space["slots"], observation_space["slot_mask"]
        n_slots = int(mask.n)
        rows = slots.nvec.reshape(n_slots, -1)
        if not (rows == rows[0]).all():
            raise ValueError("extractor 'slots': the slots' MultiDiscrete rows differ; it needs one layout per slot")
        self._others = [k for k in observation_space.spaces if k not in ("slots", "slot_mask")]
        others_dim = sum(get_flattened_obs_dim(observation_space[k]) for k in self._others)
        super().__init__(observation_space, features_dim=n_slots * slot_dim + slot_dim + others_dim)
        self.n_slots, self.per_slot = n_slots, int(rows[0].sum())
        self.encoder = nn.Sequential(nn.Linear(self.per_slot + n_slots, 64), nn.ReLU(), nn.Linear(64, slot_dim), nn.ReLU())
        self.register_buffer("positions", torch.eye(n_slots), persistent=False)

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        # SB3 has one-hot encoded `slots` entry by entry, so slot p's genes are contiguous
        slots = observations["slots"].view(-1, self.n_slots, self.per_slot)
        mask = observations["slot_mask"].float().view(-1, self.n_slots, 1)
        positions = self.positions.expand(slots.shape[0], -1, -1)
        encoded = self.encoder(torch.cat([slots, positions], dim=-1)) * mask
        mean = encoded.sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        others = [observations[k].flatten(start_dim=1).float() for k in self._others]
        return torch.cat([encoded.flatten(start_dim=1), mean, *others], dim=1)


#: the `extractor` setting of the RL methods -> the class SB3 builds
EXTRACTORS: dict[str, type[BaseFeaturesExtractor]] = {"combined": IntCombinedExtractor, "slots": SlotSetExtractor}
