"""Task stacks: training several models of one genome as one stack gives each task the result of
training it alone (same seed, same batches), to float rounding, with per-task early stopping.

Tolerance: the stack computes the same sums in a different order and uses fused AdamW, so
losses agree to about 1e-6 relative after a few updates; the tests allow 1e-4 relative and
2e-5 absolute on losses and 1e-4 on accuracies (an argmax flip at a tie would exceed it).
"""

from __future__ import annotations

import pytest
import torch

from livgym.models.compiler import build_model
from livgym.models.genome import Genome
from livgym.models.operators.stacked import select_tasks, stack_models
from livgym.rewards.evaluation.evaluator import make_evaluator
from livgym.rewards.training.loop import TrainConfig, make_optimizer, train, train_stacked

GENOMES = {
    "attention": Genome.from_string("11111-91111-31111@w64h4"),  # softmax attention, SwiGLU, GQA
    "recurrence": Genome.from_string("51111-91111-71111@w64h4"),  # Rec-1, SwiGLU, gated short convolution
    "differential": Genome.from_string("14.1.1.1.1-17.1.1.1.1-61111@w64h4"),  # SA-1-Diff, GConv-2-Diff, Rec-2
    "hybrid": Genome.from_string("51111-91111-11111@w64h4"),  # Rec-1, SwiGLU, softmax attention
}
VOCABS = (11, 19, 7)
LENGTHS = (12, 12, 9)  # one task with shorter sequences: padded in the stack
CONFIG = TrainConfig(steps=6, batch_size=4, warmup_steps=2, eval_every=2)


def _models(genome: Genome) -> list[torch.nn.Module]:
    models = []
    for i, vocab in enumerate(VOCABS):
        torch.manual_seed(i)
        models.append(build_model(genome, vocab))
    return models


def _next_batch(task: int):
    data = torch.Generator().manual_seed(100 + task)

    def draw(step: int):
        inputs = torch.randint(VOCABS[task], (CONFIG.batch_size, LENGTHS[task]), generator=data)
        targets = torch.where(torch.rand(inputs.shape, generator=data) < 0.5, inputs.roll(1, 1), -100)
        return inputs, targets
    return draw


_HELD = [_next_batch(task)(0) for task in range(len(VOCABS))]


STOPS_AT_ONCE = 2  # this task reports a perfect score at its first evaluation, so it stops early


def _accuracy(task: int, logits: torch.Tensor, targets: torch.Tensor) -> float:
    probed = targets != -100
    accuracy = (logits.argmax(-1)[probed] == targets[probed]).float().mean().item()
    return 1.0 if task == STOPS_AT_ONCE else accuracy


@pytest.mark.parametrize("name", ["attention", "recurrence", "differential"])
def test_a_stack_trains_each_task_as_it_trains_alone(name):
    alone = []
    for task, model in enumerate(_models(GENOMES[name])):
        inputs, targets = _HELD[task]
        alone.append(train(model, _next_batch(task), lambda m, t=task, x=inputs, y=targets: _accuracy(t, m(x), y),
                           CONFIG))

    def evaluate(stack, tasks):
        length = max(LENGTHS)
        inputs = torch.stack([torch.nn.functional.pad(_HELD[t][0], (0, length - LENGTHS[t])) for t in tasks])
        with torch.no_grad():
            logits = stack(inputs)
        return [_accuracy(t, logits[k, :, :LENGTHS[t]], _HELD[t][1]) for k, t in enumerate(tasks)]

    models = _models(GENOMES[name])
    before = [[p.detach().clone() for p in m.parameters()] for m in models]
    together = train_stacked(models, [_next_batch(t) for t in range(len(VOCABS))], evaluate, CONFIG)
    for task, (a, b) in enumerate(zip(alone, together)):
        assert b.steps == a.steps, f"task {task} stops at the same update"
        assert b.final_loss == pytest.approx(a.final_loss, rel=1e-4, abs=2e-5), f"task {task}"
        assert b.best_accuracy == pytest.approx(a.best_accuracy, abs=1e-4), f"task {task}"
    assert alone[STOPS_AT_ONCE].steps == CONFIG.eval_every < alone[0].steps == CONFIG.steps
    for model, params in zip(models, before):
        assert all(torch.equal(p, q) for p, q in zip(model.parameters(), params)), "the stack trains copies"


def test_a_stack_computes_each_models_logits_and_gradients():
    models = _models(GENOMES["differential"])
    stack = stack_models(models)
    length = max(LENGTHS)
    tokens = torch.stack([torch.randint(v, (2, length), generator=torch.Generator().manual_seed(v)) for v in VOCABS])
    logits = stack(tokens)
    assert logits.shape == (len(VOCABS), 2, length, max(VOCABS))
    logits[..., :min(VOCABS)].sum().backward()
    stacked = dict(stack.named_parameters())
    for task, (model, vocab) in enumerate(zip(models, VOCABS)):
        own = model(tokens[task])
        torch.testing.assert_close(logits[task, ..., :vocab], own, rtol=1e-5, atol=1e-6)
        assert torch.isinf(logits[task, ..., vocab:]).all(), "rows the task lacks are masked"
        own[..., :min(VOCABS)].sum().backward()
        for name, p in model.named_parameters():
            grad = stacked[name].grad[task]
            if name == "embedding.weight":
                assert not grad[vocab:].any(), "padded rows get no gradient"
                grad = grad[:vocab]
            torch.testing.assert_close(grad.reshape(p.shape), p.grad, rtol=1e-4, atol=1e-6)


def test_dropping_tasks_keeps_the_others_and_their_optimizer_state():
    models = _models(GENOMES["recurrence"])
    stack = stack_models(models)
    optimizer = make_optimizer(stack, CONFIG, fused=True)
    tokens = torch.stack([torch.randint(7, (2, 8), generator=torch.Generator().manual_seed(i)) for i in range(3)])
    stack(tokens).logsumexp(-1).sum().backward()
    optimizer.step()
    moments = {name: optimizer.state[p]["exp_avg"].clone() for name, p in stack.named_parameters()}
    optimizer = select_tasks(stack, [0, 2], optimizer)
    assert stack.tasks == 2 and stack.vocab_sizes == [VOCABS[0], VOCABS[2]] and stack.vocab_size == VOCABS[0]
    for name, p in stack.named_parameters():
        assert p.shape[0] == 2 and p in optimizer.state, name
        expected = moments[name][[0, 2]]
        if name == "embedding.weight":
            expected = expected[:, :VOCABS[0]]
        torch.testing.assert_close(optimizer.state[p]["exp_avg"], expected, rtol=0, atol=0)
    assert stack(tokens[[0, 2]]).shape == (2, 2, 8, VOCABS[0])


MAD = {"tasks": ("in_context_recall", "compression", "memorization"), "eval_sequences": 16,
       "train.steps": 6, "train.batch_size": 8, "train.eval_every": 2, "train.warmup_steps": 2}


@pytest.mark.parametrize("name", ["attention", "hybrid"])
@pytest.mark.parametrize("early_stop", [0.99, 0.03], ids=["full-budget", "early-stops"])
def test_mad_lite_stacked_equals_one_model_per_task(name, early_stop):
    overrides = {**MAD, "train.early_stop_accuracy": early_stop}
    one_by_one = make_evaluator("mad-lite-short", stacked=False, **overrides).evaluate(GENOMES[name])
    stacked = make_evaluator("mad-lite-short", **overrides).evaluate(GENOMES[name])
    assert one_by_one.ok and stacked.ok, stacked.error
    assert stacked.config_hash == one_by_one.config_hash, "the switch is not part of the hash"
    assert stacked.metrics["train_steps"] == one_by_one.metrics["train_steps"]
    if early_stop < 0.5:
        assert stacked.metrics["train_steps"] < 3 * MAD["train.steps"], "some task stopped early"
    for metric, value in one_by_one.metrics.items():
        assert stacked.metrics[metric] == pytest.approx(value, rel=1e-4, abs=2e-5), metric


def test_a_diverging_task_is_named():
    result = make_evaluator("mad-lite-short", **{**MAD, "train.lr": 1e9, "train.grad_clip": 1e9}).evaluate(
        GENOMES["attention"])
    assert result.status == "diverged"
    assert "loss is" in result.error and "(" in result.error
