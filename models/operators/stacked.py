"""Task stacks: T same-architecture models (one per task) trained as one model, in one set of ops.

A stack is built from T models that were each built as usual (their own seed, their own
vocabulary), so every task starts from exactly the weights it would get alone. Parameters
gain a leading task dimension:
- linear maps become `StackedLinear`, weight (T, out, in): one batched matmul for all tasks;
- the embedding becomes `StackedEmbedding`, (T, V, width) with V the largest vocabulary; rows a
  task does not have are zero, and the head (tied or not) masks their logits to -inf, so they
  get no gradient, stay zero under AdamW and change neither the loss nor the gradient norm;
- vectors and scalars used elementwise (norm weights, decays, lambda) become (T, 1, 1, n),
  which broadcasts against activations (T, B, L, n); convolution kernels become (T, C, k).
The stack runs the models' own modules on (T, B, L) token ids and returns (T, B, L, V)
logits, equal to each model's own logits up to float rounding (tests/test_batched_training.py).
Activations are (T, B, L, width) between blocks; featurizers flatten them task-major to
(T * B, L, .) for the parameter-free mixers (see `featurizer`), which need no change.
A stack trains in parallel form only: it has no decoding cache.
"""

from __future__ import annotations

import copy
import inspect

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class StackedLinear(nn.Module):
    """T linear maps: x (T, ..., in) -> (T, ..., out), or a shared x (L, in) -> (T, L, out)."""

    def __init__(self, weight: nn.Parameter, bias: nn.Parameter | None = None) -> None:
        super().__init__()
        self.weight = weight  # (T, out, in)
        self.bias = bias  # (T, out) or None

    def forward(self, x: Tensor) -> Tensor:
        tasks, out, width = self.weight.shape
        if x.dim() == 2:  # one input for every task (an implicit filter's positions)
            rows = x.expand(tasks, *x.shape)
        else:
            rows = x.reshape(tasks, -1, width)
        wt = self.weight.transpose(1, 2)
        y = torch.bmm(rows, wt) if self.bias is None else torch.baddbmm(self.bias.unsqueeze(1), rows, wt)
        return y.view(tasks, *x.shape[1 if x.dim() > 2 else 0:-1], out)


class StackedHead(StackedLinear):
    """The output projection of a stack: logits of vocabulary rows a task lacks are -inf."""

    def __init__(self, weight: nn.Parameter, vocab_sizes: list[int]) -> None:
        super().__init__(weight)
        ids = torch.arange(weight.shape[1], device=weight.device)
        sizes = torch.tensor(vocab_sizes, device=weight.device)
        mask = torch.where(ids[None, :] < sizes[:, None], 0.0, float("-inf"))
        self.register_buffer("vocab_mask", mask[:, None, None, :], persistent=False)  # (T, 1, 1, V)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x) + self.vocab_mask


class StackedEmbedding(nn.Module):
    """T embeddings: token ids (T, B, L) -> (T, B, L, width), each task reading its own table."""

    def __init__(self, weight: nn.Parameter) -> None:
        super().__init__()
        self.weight = weight  # (T, V, width)

    def forward(self, tokens: Tensor) -> Tensor:
        tasks, vocab, width = self.weight.shape
        offsets = torch.arange(tasks, device=tokens.device).view(tasks, 1, 1) * vocab
        return F.embedding(tokens + offsets, self.weight.view(tasks * vocab, width))


def unstacked_dim(p: Tensor) -> int:
    """The number of dimensions a parameter has in one model (weight decay applies to matrices)."""
    return getattr(p, "unstacked_dim", p.dim())


def _stack(params: list[Tensor], broadcast: bool, rows: int | None) -> nn.Parameter:
    """One parameter (T, ...) from T models' copies: matrices padded with zero rows to `rows`
    (embeddings of different vocabularies), vectors and scalars as (T, 1, 1, n)."""
    data = [p.detach() for p in params]
    if rows is not None:
        data = [F.pad(d, (0, 0, 0, rows - d.shape[0])) for d in data]
    stacked = torch.stack(data)
    if broadcast and params[0].dim() <= 1:
        stacked = stacked.view(len(params), 1, 1, -1)
    param = nn.Parameter(stacked.clone(), requires_grad=params[0].requires_grad)
    param.unstacked_dim = params[0].dim()
    return param


def stack_models(models: list[nn.Module]) -> nn.Module:
    """One model running `models` (LIV models of one genome, any vocabularies) as a task stack.

    The stack holds copies of the models' weights: training it leaves `models` unchanged.
    Featurizer sharing and tied embeddings carry over (shared parameters stay shared).
    """
    if not models:
        raise ValueError("stack_models needs at least one model")
    first = models[0]
    signature = [(n, tuple(p.shape[1:]) if n in ("embedding.weight", "head.weight") else tuple(p.shape))
                 for n, p in first.named_parameters()]
    for i, m in enumerate(models[1:], 1):
        other = [(n, tuple(p.shape[1:]) if n in ("embedding.weight", "head.weight") else tuple(p.shape))
                 for n, p in m.named_parameters()]
        if other != signature:
            raise ValueError(f"stack_models: model {i} has a different architecture from model 0")
    vocab_sizes = [m.embedding.weight.shape[0] for m in models]
    vocab = max(vocab_sizes)
    stack = copy.deepcopy(first)
    stack.vocab_size = vocab
    stack.vocab_sizes = vocab_sizes
    stack.tasks = len(models)
    # Stacked parameters by the id of model 0's parameter, so shared parameters stay shared.
    by_id: dict[int, nn.Parameter] = {}
    originals = [dict(m.named_parameters(remove_duplicate=False)) for m in models]
    first_ids = {name: id(p) for name, p in originals[0].items()}

    def stacked(name: str, broadcast: bool, rows: int | None = None) -> nn.Parameter:
        key = first_ids[name]
        if key not in by_id:
            by_id[key] = _stack([o[name] for o in originals], broadcast, rows)
        return by_id[key]

    embedding = stacked("embedding.weight", broadcast=False, rows=vocab)
    stack.embedding = StackedEmbedding(embedding)
    stack.head = StackedHead(stacked("head.weight", broadcast=False, rows=vocab), vocab_sizes)
    replaced: dict[int, nn.Module] = {}
    names = {id(module): name for name, module in stack.named_modules(remove_duplicate=False)}
    for parent in list(stack.modules()):
        if isinstance(parent, (nn.Linear, StackedLinear, StackedEmbedding)):
            continue  # replaced by their parent, below
        prefix = names[id(parent)]
        for child_name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear):
                if id(child) not in replaced:
                    full = f"{prefix}.{child_name}" if prefix else child_name
                    bias = stacked(f"{full}.bias", broadcast=False) if child.bias is not None else None
                    replaced[id(child)] = StackedLinear(stacked(f"{full}.weight", broadcast=False), bias)
                setattr(parent, child_name, replaced[id(child)])
        for param_name, _ in list(parent.named_parameters(recurse=False)):
            full = f"{prefix}.{param_name}" if prefix else param_name
            setattr(parent, param_name, stacked(full, broadcast=True))
    return stack


def select_tasks(stack: nn.Module, keep: list[int], optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """Keep only the tasks at positions `keep` of `stack` (tasks that stopped training).

    Every stacked parameter is replaced by its kept slices along the task dimension, and the
    embedding and head drop the vocabulary rows no kept task has (they are zero, with zero
    optimizer state). Returns `optimizer` rebuilt over the new parameters, its state tensors
    shaped like a parameter (AdamW's moments) sliced the same way and the rest (the step
    count) kept, so training carries on as if the dropped tasks had never been there.
    """
    index = torch.tensor(keep, device=stack.embedding.weight.device)
    vocab_sizes = [stack.vocab_sizes[i] for i in keep]
    vocab = max(vocab_sizes)
    rows = {id(stack.embedding.weight), id(stack.head.weight)}
    new: dict[int, nn.Parameter] = {}

    def narrow(t: Tensor, p: nn.Parameter) -> Tensor:
        t = t.detach().index_select(0, index)
        return t[:, :vocab].contiguous() if id(p) in rows else t

    for p in {id(p): p for p in stack.parameters()}.values():
        q = nn.Parameter(narrow(p, p), requires_grad=p.requires_grad)
        q.unstacked_dim = unstacked_dim(p)
        new[id(p)] = q
    groups = [{**{k: v for k, v in group.items() if k != "params"}, "params": [new[id(p)] for p in group["params"]]}
              for group in optimizer.param_groups]
    accepted = inspect.signature(type(optimizer)).parameters
    rebuilt = type(optimizer)(groups, **{k: v for k, v in optimizer.defaults.items() if k in accepted})
    for p, state in optimizer.state.items():
        rebuilt.state[new[id(p)]] = {k: narrow(v, p) if torch.is_tensor(v) and v.shape == p.shape else v
                                     for k, v in state.items()}
    for module in stack.modules():
        for name, p in list(module._parameters.items()):
            if p is not None and id(p) in new:
                module._parameters[name] = new[id(p)]
    stack.head.vocab_mask = stack.head.vocab_mask.index_select(0, index)[..., :vocab].contiguous()
    stack.vocab_sizes = vocab_sizes
    stack.vocab_size = vocab
    stack.tasks = len(keep)
    return rebuilt
