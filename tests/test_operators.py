"""Every LIV class and reference genome: causal, decodes exactly as it runs in parallel, and its
built parameters and measured cache equal the analytic cost model."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from livgym.models.compiler import build_model
from livgym.models.cost import efficiency
from livgym.models.genes import ChannelMixing, Nonlinearity, Sparsity
from livgym.models.genome import Genome, Slot
from livgym.models.operators.recurrence import LONG_SEQUENCE, chunked_scan, sequential_scan
from livgym.models.operators.stacked import stack_models
from livgym.models.reference import REFERENCE_GENOMES, reference_genome
from livgym.models.registry import LIV_CLASSES

VOCAB = 32
LENGTH = 40  # longer than the test window below, so banded attention really is banded
WINDOW = 16
SHARED = 2


def _genome(slots: tuple[Slot, ...]) -> Genome:
    genome = Genome(slots, width=64, heads=4)
    swa = genome.class_genome(18)  # shrink the sliding window below LENGTH
    return genome.with_class_genome(18, replace(swa, window=WINDOW))


def _class_genomes() -> list[tuple[str, Genome]]:
    """Each class twice around a SwiGLU slot: unshared, sharing a featurizer, sharing features."""
    cases = []
    for row in LIV_CLASSES:
        cases.append((f"{row.name}", _genome((Slot(row.id), Slot(9), Slot(row.id)))))
        cases.append((f"{row.name}-featurizer-shared",
                      _genome((Slot(row.id, 1, SHARED), Slot(9), Slot(row.id, 1, SHARED)))))
        if row.genome.shareable_features:
            cases.append((f"{row.name}-features-shared",
                          _genome((Slot(row.id, 1, 1, 1, SHARED), Slot(9), Slot(row.id, 1, 1, 1, SHARED)))))
    return cases


# Supported combinations no registered class uses yet: a new registry row must just work.
EXTRA_STRUCTURES = {
    "relu-attention": (1, dict(nonlinearity=Nonlinearity.RELU)),
    "swish-banded-attention": (1, dict(nonlinearity=Nonlinearity.SWISH, sparsity=Sparsity.BANDED, window=WINDOW)),
    "dense-attention-expanded": (1, dict(channels=ChannelMixing.DENSE, expansion=2)),
    "gqa-linear-attention": (19, dict(repeat=2, short_conv=True)),
    "relu-glu-short-conv": (9, dict(nonlinearity=Nonlinearity.RELU, short_conv=True, expansion=2)),
    "bilinear-glu": (9, dict(nonlinearity=Nonlinearity.NONE)),
    "wide-short-conv": (7, dict(kernel=5, expansion=2, short_conv=True)),
    "grouped-recurrence-short-conv": (6, dict(channels=ChannelMixing.GROUPED, short_conv=True)),
    "differential-long-conv-expanded": (17, dict(expansion=2)),
}


def _extra_structure_genomes() -> list[tuple[str, Genome]]:
    cases = []
    for name, (class_id, changes) in EXTRA_STRUCTURES.items():
        if class_id == 9:  # memoryless units have no feature groups to share: share the featurizer
            base = _genome((Slot(9, 1, SHARED), Slot(1), Slot(9, 1, SHARED)))
        else:
            base = _genome((Slot(class_id), Slot(9), Slot(class_id, 1, 1, 1, SHARED), Slot(class_id, 1, 1, 1, SHARED)))
        cases.append((name, base.with_class_genome(class_id, replace(base.class_genome(class_id), **changes))))
    return cases


def _reference_genomes() -> list[tuple[str, Genome]]:
    return [(name, reference_genome(name, depth=6, width=64, heads=4)) for name in REFERENCE_GENOMES]


CASES = _class_genomes() + _extra_structure_genomes() + _reference_genomes()


@pytest.fixture(params=CASES, ids=[name for name, _ in CASES])
def model_case(request):
    name, genome = request.param
    torch.manual_seed(0)
    return genome, build_model(genome, VOCAB).eval()


def test_causal(model_case):
    _, model = model_case
    tokens = torch.randint(0, VOCAB, (2, LENGTH))
    changed = tokens.clone()
    changed[:, 25:] = (changed[:, 25:] + 1) % VOCAB
    with torch.no_grad():
        a, b = model(tokens), model(changed)
    torch.testing.assert_close(a[:, :25], b[:, :25], rtol=0, atol=1e-6)
    assert not torch.allclose(a[:, 25:], b[:, 25:])


def test_decoding_equals_parallel_forward(model_case):
    _, model = model_case
    tokens = torch.randint(0, VOCAB, (2, LENGTH))
    with torch.no_grad():
        parallel = model(tokens)
        cache = model.init_cache(2)
        decoded = torch.stack([model.step(tokens[:, t], cache) for t in range(LENGTH)], dim=1)
    torch.testing.assert_close(decoded, parallel, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("tie", [True, False])
def test_parameter_count_matches_cost_model(model_case, tie):
    genome, _ = model_case
    model = build_model(genome, VOCAB, tie_embeddings=tie)
    cost = efficiency(genome, context_length=LENGTH, vocab_size=VOCAB, tie_embeddings=tie)
    assert model.num_parameters() == cost.params
    assert model.num_parameters(exclude_embeddings=True) == cost.params_without_embeddings


def test_measured_cache_matches_cost_model(model_case):
    genome, model = model_case
    cache = model.init_cache(1)
    with torch.no_grad():
        for t, token in enumerate(torch.randint(0, VOCAB, (LENGTH,))):
            model.step(token.view(1), cache)
            if t + 1 in (1, WINDOW, LENGTH):
                expected = efficiency(genome, context_length=t + 1, vocab_size=VOCAB).cache_bytes
                assert cache.nbytes(bytes_per_value=2) == expected, f"after {t + 1} tokens"


def test_trains_without_nan(model_case):
    _, model = model_case
    model.train()
    tokens = torch.randint(0, VOCAB, (2, LENGTH))
    logits = model(tokens[:, :-1])
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), tokens[:, 1:].reshape(-1))
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert torch.isfinite(loss)
    assert all(g is not None and torch.isfinite(g).all() for g in grads), "every parameter gets a finite gradient"


def test_trains_in_a_task_stack_as_alone(model_case):
    """Two copies of the model with other weights and vocabularies, stacked: each task's logits
    and gradients are those of its own model (rounding aside)."""
    genome, first = model_case
    torch.manual_seed(1)
    second = build_model(genome, VOCAB - 5)
    models = [first.train(), second]
    stack = stack_models(models)
    tokens = torch.randint(0, VOCAB - 5, (2, 2, LENGTH), generator=torch.Generator().manual_seed(0))
    logits = stack(tokens)
    logits[..., :VOCAB - 5].square().mean(dim=(1, 2, 3)).sum().backward()
    stacked = dict(stack.named_parameters())
    for task, model in enumerate(models):
        own = model(tokens[task])
        torch.testing.assert_close(logits[task, ..., :own.shape[-1]], own, rtol=1e-5, atol=1e-5)
        own[..., :VOCAB - 5].square().mean().backward()
        for name, p in model.named_parameters():
            grad = stacked[name].grad[task]
            if name == "embedding.weight":  # padded to the larger vocabulary
                grad = grad[:p.shape[0]]
            torch.testing.assert_close(grad.reshape(p.shape), p.grad, rtol=1e-4, atol=1e-6, msg=name)


def test_featurizer_sharing_shares_parameters():
    shared = _genome((Slot(5, 1, SHARED), Slot(9), Slot(5, 1, SHARED)))
    alone = _genome((Slot(5), Slot(9), Slot(5)))
    model = build_model(shared, VOCAB)
    first, third = model.blocks[0].op.featurizers[0], model.blocks[2].op.featurizers[0]
    assert first is third
    assert {id(p) for p in first.parameters()} == {id(p) for p in third.parameters()}
    featurizer_params = sum(p.numel() for p in first.parameters())
    assert build_model(alone, VOCAB).num_parameters() - model.num_parameters() == featurizer_params


def test_feature_group_sharing_reads_the_producers_kv():
    shared = _genome((Slot(1, 1, 1, 1, SHARED), Slot(9), Slot(1, 1, 1, 1, SHARED)))
    model = build_model(shared, VOCAB)
    consumer = model.blocks[2].op.featurizers[0]
    assert set(consumer.proj) == {"c"}, "a consumer projects only its queries"
    alone = efficiency(_genome((Slot(1), Slot(9), Slot(1))), context_length=LENGTH, vocab_size=VOCAB)
    cost = efficiency(shared, context_length=LENGTH, vocab_size=VOCAB)
    assert cost.cache_bytes * 2 == alone.cache_bytes, "K/V cached once instead of twice"
    assert alone.params - cost.params == 2 * 64 * 64, "the consumer has no K and V projections"


def test_transformer_flops_match_torch_flop_counter():
    """Attention + SwiGLU decoding runs only matmuls, which PyTorch's counter sees; from
    position 1 on (at position 0 a one-token contraction is a plain multiply it skips)."""
    for name in ("transformer++", "gqa-transformer", "kv-sharing-transformer"):
        genome = reference_genome(name, depth=6, width=64, heads=4)
        model = build_model(genome, VOCAB)
        cache = model.init_cache(1)
        tokens = torch.randint(0, VOCAB, (LENGTH,))
        with torch.no_grad():
            model.step(tokens[:1], cache)
            with FlopCounterMode(display=False) as counter:
                for token in tokens[1:]:
                    model.step(token.view(1), cache)
        analytic = (efficiency(genome, context_length=LENGTH, vocab_size=VOCAB).forward_flops
                    - efficiency(genome, context_length=1, vocab_size=VOCAB).forward_flops)
        assert counter.get_total_flops() == analytic, name


@pytest.mark.parametrize("per_group", [False, True], ids=["decay-per-channel", "decay-per-group"])
@pytest.mark.parametrize("length,groups,chunk", [(1, 1, 8), (37, 1, 8), (33, 1, 4), (64, 4, 16), (50, 2, None),
                                                 (LONG_SEQUENCE + 3, 1, None)])
def test_chunked_scan_equals_time_loop(length, groups, chunk, per_group):
    torch.manual_seed(length)
    bsz, d, n = 2, 8, 3
    decays = groups if per_group else d
    log_a = -torch.rand(bsz, length, decays, dtype=torch.float64) * 3  # strong decays as well as weak ones
    u, b, c = (torch.randn(bsz, length, *s, dtype=torch.float64) for s in ((d,), (groups, n), (groups, n)))
    torch.testing.assert_close(chunked_scan(log_a, u, b, c, chunk), sequential_scan(log_a, u, b, c))


def test_grouped_recurrence_decodes_exactly():
    """Rec-1 with grouped channel mixing (per-head B, C and decay, Mamba-2-like)."""
    genome = _genome((Slot(5), Slot(9), Slot(5, 1, 1, 1, SHARED), Slot(5, 1, 1, 1, SHARED)))
    genome = genome.with_class_genome(5, replace(genome.class_genome(5), channels=ChannelMixing.GROUPED))
    torch.manual_seed(0)
    model = build_model(genome, VOCAB).eval()
    tokens = torch.randint(0, VOCAB, (2, LENGTH))
    with torch.no_grad():
        cache = model.init_cache(2)
        decoded = torch.stack([model.step(tokens[:, t], cache) for t in range(LENGTH)], dim=1)
        torch.testing.assert_close(decoded, model(tokens), rtol=1e-4, atol=1e-4)
    assert cache.nbytes() == 2 * efficiency(genome, context_length=LENGTH, vocab_size=VOCAB).cache_bytes  # batch 2
    assert model.num_parameters() == efficiency(genome, vocab_size=VOCAB).params
