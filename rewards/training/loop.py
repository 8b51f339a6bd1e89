"""The fixed training recipe every trained quality proxy uses, recorded with each result.

AdamW with linear warm-up then cosine decay, gradient clipping, periodic evaluation with early
stopping once the probe accuracy reaches a target, a wall-clock limit, and NaN detection.
Architecture rankings can flip with the training recipe, so the recipe is part of the
evaluator config and hashed with it; it never adapts per genome.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor, nn

from livgym.models.operators.stacked import select_tasks, stack_models, unstacked_dim
from livgym.rewards.evaluation.evaluator import Diverged, EvaluationTimeout, Evaluator
from livgym.rewards.training.device import AUTO, describe, resolve_device
from livgym.rewards.training.seeding import seeded  # noqa: F401 - the recipe's seeding, for its callers


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of the recipe (one line each: what it is)."""

    steps: int = 600  # optimizer updates at most
    batch_size: int = 32  # sequences per update
    lr: float = 1e-3  # peak learning rate (at 3e-3 induction/recall never formed in our proxies)
    weight_decay: float = 0.1  # AdamW decoupled weight decay (matrices only)
    betas: tuple[float, float] = (0.9, 0.98)  # AdamW betas
    warmup_steps: int = 80  # linear warm-up from 0; recall formed after 80, rarely after 20 (RESULTS.md)
    min_lr_fraction: float = 0.1  # cosine decays to this fraction of `lr`
    grad_clip: float = 1.0  # max global gradient norm
    eval_every: int = 100  # updates between evaluations (and at the end)
    early_stop_accuracy: float = 0.99  # stop once the evaluation accuracy reaches this
    time_limit_s: float = 600.0  # wall-clock limit of one training run: then `timeout`
    threads: int = 1  # torch intra-op threads while training (one evaluation per core)
    # where to train: auto (CUDA when present, else CPU), cpu, cuda, cuda:N. Not hashed, so a
    # GPU's results answer for the CPU's (rewards.training.device); the device used is stored with each.
    device: str = field(default=AUTO, metadata={"hashed": False})


    def __post_init__(self) -> None:
        if self.device != AUTO:
            try:
                torch.device(self.device)
            except (RuntimeError, TypeError):
                raise ValueError(f"train.device={self.device!r} is not a device name "
                                 "(auto, cpu, cuda, cuda:N)") from None


@dataclass(frozen=True)
class TrainOutcome:
    steps: int
    final_loss: float
    best_accuracy: float
    seconds: float


Batch = tuple[Tensor, Tensor]  # inputs (B, L), targets (B, L) with -100 off-probe


def learning_rate(step: int, config: TrainConfig) -> float:
    """Linear warm-up to `lr`, then cosine decay to `min_lr_fraction * lr`, at update `step`."""
    warmup = max(1, min(config.warmup_steps, config.steps))
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, config.steps - warmup))
    floor = config.min_lr_fraction
    return config.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def make_optimizer(model: nn.Module, config: TrainConfig, fused: bool = False) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not norms, biases, decays or scalars).

    In a task stack a parameter is a matrix if it is one in each task's model. `fused` takes
    torch's fused kernel: the same update, rounded differently.
    """
    params = {id(p): p for p in model.parameters() if p.requires_grad}.values()
    decay = [p for p in params if unstacked_dim(p) >= 2]
    rest = [p for p in params if unstacked_dim(p) < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas, fused=fused or None)


def lm_loss(model: nn.Module, inputs: Tensor, targets: Tensor) -> Tensor:
    logits = model(inputs)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)


def train(model: nn.Module, next_batch: Callable[[int], Batch], evaluate: Callable[[nn.Module], float],
          config: TrainConfig, deadline: float | None = None) -> TrainOutcome:
    """Train `model` on `next_batch(step)`; `evaluate(model)` returns the probe accuracy.

    Batches may come on the CPU; they are moved to the model's device. Raises Diverged on a
    non-finite loss and EvaluationTimeout past the time limit (or the caller's absolute
    `deadline`, a `time.perf_counter()` value).
    """
    start = time.perf_counter()
    device = next(model.parameters()).device
    limit = start + config.time_limit_s if deadline is None else min(deadline, start + config.time_limit_s)
    optimizer = make_optimizer(model, config)
    best, loss_value, step = 0.0, math.nan, 0
    model.train()
    for step in range(config.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        inputs, targets = next_batch(step)
        loss = lm_loss(model, inputs.to(device), targets.to(device))
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            raise Diverged(f"loss is {loss_value} at update {step}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        if time.perf_counter() > limit:
            raise EvaluationTimeout(f"time limit of {config.time_limit_s:.0f} s reached after {step + 1} updates")
        if (step + 1) % config.eval_every == 0 or step + 1 == config.steps:
            best = max(best, evaluate(model))
            model.train()
            if best >= config.early_stop_accuracy:
                break
    return TrainOutcome(steps=step + 1, final_loss=loss_value, best_accuracy=best, seconds=time.perf_counter() - start)


def stacked_losses(stack: nn.Module, inputs: Tensor, targets: Tensor) -> Tensor:
    """Each task's `lm_loss` in a task stack: inputs and targets (T, B, L) -> (T,)."""
    logits = stack(inputs)
    per_token = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                            ignore_index=-100, reduction="none").view(len(inputs), -1)
    return per_token.sum(1) / (targets != -100).view(len(inputs), -1).sum(1)


def clip_per_task(stack: nn.Module, max_norm: float) -> None:
    """`nn.utils.clip_grad_norm_` for each task of a stack on its own (its own global norm)."""
    grads = [p.grad for p in {id(p): p for p in stack.parameters()}.values() if p.grad is not None]
    squares = torch.stack([g.reshape(len(g), -1).pow(2).sum(1) for g in grads]).sum(0)  # (T,)
    scale = (max_norm / (squares.sqrt() + 1e-6)).clamp(max=1.0)  # clip_grad_norm_'s formula
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))


def stack_batches(batches: list[Batch]) -> Batch:
    """Per-task batches (B, L_i) as (T, B, L): shorter sequences padded at the end with token 0
    and unprobed targets, which no earlier position sees (every model is causal)."""
    length = max(inputs.shape[1] for inputs, _ in batches)
    inputs = torch.stack([nn.functional.pad(x, (0, length - x.shape[1])) for x, _ in batches])
    targets = torch.stack([nn.functional.pad(y, (0, length - y.shape[1]), value=-100) for _, y in batches])
    return inputs, targets


def train_stacked(models: list[nn.Module], next_batches: list[Callable[[int], Batch]],
                  evaluate: Callable[[nn.Module, list[int]], list[float]], config: TrainConfig,
                  deadline: float | None = None, names: list[str] | None = None) -> list[TrainOutcome]:
    """`train` for several models of one architecture at once, as one task stack.

    Task i trains on `next_batches[i](step)` and stops, as in `train`, at its first evaluation
    at or above `early_stop_accuracy`; from then on it is dropped from the stack, so it costs
    nothing more. `evaluate(stack, tasks)` returns the probe accuracy of each task in `tasks`
    (indices into `models`; the stack holds them in that order). Every task gets the outcome it
    would get from `train` alone, up to float rounding: the same batches, initial weights,
    learning rates, per-task clipping and AdamW update (fused, so rounded differently). The time
    limit covers the whole run, `time_limit_s` per task, as the models trained one by one would
    have had. `models` are left unchanged; `names` label a divergence.
    """
    start = time.perf_counter()
    device = next(models[0].parameters()).device
    names = names or [f"task {i}" for i in range(len(models))]
    budget = config.time_limit_s * len(models)
    limit = start + budget if deadline is None else min(deadline, start + budget)
    stack = stack_models(models)
    optimizer = make_optimizer(stack, config, fused=True)
    active = list(range(len(models)))
    best = [0.0] * len(models)
    outcomes: dict[int, TrainOutcome] = {}
    stack.train()
    for step in range(config.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        inputs, targets = stack_batches([next_batches[i](step) for i in active])
        losses = stacked_losses(stack, inputs.to(device), targets.to(device))
        values = losses.detach().cpu().tolist()  # one device sync per update, as `loss.item()`
        for i, value in zip(active, values):
            if not math.isfinite(value):
                raise Diverged(f"loss is {value} at update {step} ({names[i]})")
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # task i's parameters get task i's gradient only
        clip_per_task(stack, config.grad_clip)
        optimizer.step()
        if time.perf_counter() > limit:
            raise EvaluationTimeout(f"time limit of {budget:.0f} s ({config.time_limit_s:.0f} s per task) "
                                    f"reached after {step + 1} updates")
        if (step + 1) % config.eval_every == 0 or step + 1 == config.steps:
            for i, accuracy in zip(active, evaluate(stack, active)):
                best[i] = max(best[i], accuracy)
            stack.train()
            done = [k for k, i in enumerate(active)
                    if best[i] >= config.early_stop_accuracy or step + 1 == config.steps]
            for k in done:
                outcomes[active[k]] = TrainOutcome(steps=step + 1, final_loss=values[k], best_accuracy=best[active[k]],
                                                   seconds=time.perf_counter() - start)
            keep = [k for k in range(len(active)) if k not in done]
            if not keep:
                break
            if done:
                optimizer = select_tasks(stack, keep, optimizer)
                active = [active[k] for k in keep]
    return [outcomes[i] for i in range(len(models))]


class TrainedEvaluator(Evaluator):
    """An evaluator whose config has a `train: TrainConfig`: it trains on `train.device`."""

    def __init__(self, config, fidelity: str | None = None) -> None:
        super().__init__(config, fidelity)
        try:  # a device this machine lacks is a config error: raise it now, naming the setting
            self.device()
        except ValueError as err:
            raise ValueError(f"{self.fidelity}: train.{err}") from None

    def device(self) -> torch.device:
        return resolve_device(self.config.train.device)

    def ran_on(self) -> str:
        return describe(self.device())
