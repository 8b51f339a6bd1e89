"""The analytic cost model: STAR's check figure, hand-computed cases, and its errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from livgym.models.cost import analytic_metrics, efficiency
from livgym.models.edits import Insert, apply_edit
from livgym.models.genome import Genome, Slot
from livgym.models.reference import reference_genome


def test_star_check_figure_transformer_pp_cache():
    """Transformer++, 48 slots (24 attention) at width 2048: 805,306,368 bytes at L = 4096, 16-bit."""
    genome = reference_genome("transformer++", depth=48, width=2048, heads=16)
    assert efficiency(genome, context_length=4096, bytes_per_value=2).cache_bytes == 24 * 2 * 4096 * 2048 * 2
    assert efficiency(genome, context_length=4096).cache_bytes == 805_306_368


def test_transformer_pp_params_by_hand():
    d, vocab = 768, 256
    genome = reference_genome("transformer++", depth=24, width=d, heads=12)
    per_pair = (4 * d * d + d) + (3 * 4 * d * d + d)  # attention + norm, SwiGLU (expansion 4) + norm
    cost = efficiency(genome, vocab_size=vocab)
    assert cost.params_without_embeddings == 12 * per_pair + d
    assert cost.params == cost.params_without_embeddings + vocab * d
    untied = efficiency(genome, vocab_size=vocab, tie_embeddings=False)
    assert untied.params == cost.params + d * vocab


def test_cache_by_operator_at_two_context_lengths():
    d = 512
    def cache(class_id: int, length: int, **changes) -> int:
        genome = Genome((Slot(class_id),), width=d, heads=8)
        if changes:
            genome = genome.with_class_genome(class_id, replace(genome.class_genome(class_id), **changes))
        return efficiency(genome, context_length=length, bytes_per_value=1).cache_bytes

    for length in (1024, 8192):
        assert cache(1, length) == 2 * length * d  # MHA
        assert cache(3, length) == 2 * length * d // 4  # GQA, repeat 4
        assert cache(18, length, window=512) == 2 * min(length, 512) * d  # sliding window
        assert cache(19, length) == 8 * (d // 8) ** 2  # linear attention state
        assert cache(5, length) == d * 16  # recurrence, state 16
        assert cache(7, length) == d * (3 - 1)  # short convolution, kernel 3
        assert cache(8, length) == d * length  # long convolution, grows with L
        assert cache(9, length) == 0  # SwiGLU
        assert cache(10, length) == 2 * 2 * length * d  # differential: two branches
        assert cache(2, length) == 2 * length * d + 3 * d * (3 - 1)  # plus Q/K/V featurizer conv states


def test_flops_per_token_is_mean_of_forward_flops():
    genome = reference_genome("striped-hybrid", depth=8, width=256, heads=4)
    cost = efficiency(genome, context_length=2048)
    assert cost.flops_per_token == cost.forward_flops / 2048
    assert cost.flops_per_token > 2 * cost.params_without_embeddings  # projections plus mixing


def test_efficiency_at_other_width_validates():
    genome = reference_genome("gqa-transformer", depth=4, width=768, heads=12)
    assert efficiency(genome, width=64, heads=4).width == 64
    with pytest.raises(ValueError, match="repeat=4"):
        efficiency(genome, width=64, heads=2)
    with pytest.raises(ValueError, match="context_length"):
        efficiency(genome, context_length=0)


def test_analytic_metrics_come_from_the_additive_cost_and_a_slot_adds_exactly():
    genome = reference_genome("striped-hybrid", depth=4, width=64, heads=4)
    cost = efficiency(genome, context_length=1024)
    assert analytic_metrics(genome, context_length=1024, long_context_length=8192) == {
        "params": cost.params, "params_without_embeddings": cost.params_without_embeddings,
        "cache_bytes": cost.cache_bytes, "flops": cost.flops_per_token,
        "cache_bytes_long": efficiency(genome, context_length=8192).cache_bytes}
    one, two = (Genome((Slot(5),) * n, width=64, heads=4) for n in (1, 2))
    recurrence = efficiency(two, context_length=1024).additive() - efficiency(one, context_length=1024).additive()
    grown = apply_edit(genome, Insert(genome.depth, 5))
    assert cost.additive() + recurrence == efficiency(grown, context_length=1024).additive()
    assert (cost.additive() + recurrence).metrics() == analytic_metrics(grown, context_length=1024)
    with pytest.raises(ValueError, match="context_length=4096 and 1024"):
        efficiency(genome).additive() + recurrence
