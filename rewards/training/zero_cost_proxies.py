"""Zero-cost proxies: scores of an untrained model computed from one batch, in milliseconds.

The `zero-cost` fidelity (`livgym.rewards.evaluators.zero_cost`) reports these. How well each
ranks architectures like trained quality differs from one search space to another, so
`benchmarks/proxy_fidelity.py` measures it in this one instead of trusting it.

- grad_norm: the L2 norm of the loss gradient at init.
- snip: sum |theta * dL/dtheta|, the loss's sensitivity to each weight.
- synflow: sum theta * dR/dtheta with every parameter replaced by its absolute value and R the
  sum of the logits on a constant input, data-free; in float64 because deep stacks overflow
  float32.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from livgym.rewards.training.loop import lm_loss

ZERO_COST_PROXIES: tuple[str, ...] = ("grad_norm", "snip", "synflow")


def _unique_params(model: nn.Module) -> list[nn.Parameter]:
    return list({id(p): p for p in model.parameters()}.values())


def gradient_scores(model: nn.Module, inputs: Tensor, targets: Tensor) -> dict[str, float]:
    """grad_norm and snip of `model` on one batch (its gradients are left zeroed)."""
    model.zero_grad(set_to_none=True)
    lm_loss(model, inputs, targets).backward()
    params = [p for p in _unique_params(model) if p.grad is not None]
    grad_norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params)).item()
    snip = sum((p.detach().double() * p.grad.double()).abs().sum() for p in params).item()
    model.zero_grad(set_to_none=True)
    return {"grad_norm": grad_norm, "snip": snip}


def synflow_score(model: nn.Module, length: int) -> float:
    """Synflow on a float64 copy of `model` with |theta| weights and an all-zero token input."""
    probe = copy.deepcopy(model).double()
    with torch.no_grad():
        for p in _unique_params(probe):
            p.abs_()
    probe.zero_grad(set_to_none=True)
    probe(torch.zeros(1, length, dtype=torch.long)).sum().backward()
    params = [p for p in _unique_params(probe) if p.grad is not None]
    return sum((p.detach() * p.grad).sum() for p in params).item()
