"""Hypothesis strategies for valid genomes, shared by the test modules.

`genomes` builds a genome slot by slot and never consults the edit code, so it can check
`valid_edits` independently: each slot draws a class and both sharing pairs (group numbers
drawn from a few values so that groups form), and a pair that the genome constructor rejects
is made independent. That repair is enough because validity is prefix-closed: a group's
first member never changes as slots are appended. `edited_genomes` then walks a few random
valid edits from such a genome, reaching layouts the direct draw makes rarely.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from livgym.models.edits import apply_edit, valid_edits
from livgym.models.genes import MAX_SHARING_GROUP
from livgym.models.genome import Genome, Slot, width_problem
from livgym.models.registry import CLASS_IDS, CLASSES_BY_ID, HYPERPARAMETER_CHOICES, ClassGenome

# Valid (width, heads) pairs, chosen so that some classes are unbuildable at some of them:
# heads 6 rules out GQA repeat 4, and width 48 with 16 heads gives softmax attention an odd
# head dimension (3), which rotary embeddings cannot use.
WIDTH_HEADS: tuple[tuple[int, int], ...] = ((768, 12), (64, 4), (128, 2), (96, 6), (48, 16), (16, 1))


@st.composite
def class_overrides(draw: st.DrawFn, max_overrides: int = 3) -> tuple[tuple[int, ClassGenome], ...]:
    """Per-class genome overrides: hyperparameters redrawn (used or not), or a copy of another
    class's genome, so that two class ids can name one operator."""
    table = {c: CLASSES_BY_ID[c].genome for c in CLASS_IDS}
    chosen: dict[int, ClassGenome] = {}
    for _ in range(draw(st.integers(0, max_overrides))):
        class_id = draw(st.sampled_from(CLASS_IDS))
        if draw(st.booleans()):
            genome = table[draw(st.sampled_from(CLASS_IDS))]
        else:
            genome = table[class_id]
            for gene, choices in HYPERPARAMETER_CHOICES.items():
                if draw(st.integers(0, 2)) == 0:
                    value = draw(st.sampled_from(choices))
                    genome = replace(genome, **{gene: bool(value) if gene == "short_conv" else value})
        table[class_id] = chosen[class_id] = genome
    return tuple(chosen.items())


def _group_numbers(max_group: int) -> st.SearchStrategy[int]:
    """Mostly small numbers, so groups form; sometimes large ones (dotted notation)."""
    return st.integers(1, max_group) | st.sampled_from((10, MAX_SHARING_GROUP))


def _related_classes(class_ids: list[int], table: dict[int, ClassGenome]) -> list[tuple[int, ...]]:
    """Sets of two or more class ids with one genome or one feature signature: the slots that
    may share a group across class ids (SA-1 and SA-2 differ only in short_conv, for one)."""
    by_key: dict[object, list[int]] = {}
    for c in class_ids:
        by_key.setdefault(("genome", table[c]), []).append(c)
        if table[c].shareable_features:
            by_key.setdefault(("signature", table[c].feature_signature()), []).append(c)
    return sorted(tuple(ids) for ids in by_key.values() if len(ids) > 1)


@st.composite
def genomes(draw: st.DrawFn, max_depth: int = 8, max_group: int = 3) -> Genome:
    """A random valid genome of depth 1..max_depth, with overrides and any listed width/heads."""
    width, heads = draw(st.sampled_from(WIDTH_HEADS))
    overrides = draw(class_overrides())
    table = {c: CLASSES_BY_ID[c].genome for c in CLASS_IDS} | dict(overrides)
    buildable = [c for c in CLASS_IDS if width_problem(table[c], width, heads) is None]
    palette = draw(st.lists(st.sampled_from(buildable), min_size=1, max_size=3, unique=True))
    related = _related_classes(buildable, table)
    if related and draw(st.booleans()):
        palette = list(draw(st.sampled_from(related))) + palette[:1]
    slots: list[Slot] = []
    for _ in range(draw(st.integers(1, max_depth))):
        liv_class = draw(st.sampled_from(palette))
        fz_group, fz_strategy = draw(_group_numbers(max_group)), draw(st.sampled_from((1, 2, 2)))
        ft_group, ft_strategy = draw(_group_numbers(max_group)), draw(st.sampled_from((1, 2, 2)))
        for fz, ft in ((fz_strategy, ft_strategy), (1, ft_strategy), (fz_strategy, 1), (1, 1)):
            slot = Slot(liv_class, fz_group, fz, ft_group, ft)
            try:
                Genome((*slots, slot), width=width, heads=heads, class_overrides=overrides)
            except ValueError:
                continue
            slots.append(slot)
            break
    return Genome(tuple(slots), width=width, heads=heads, class_overrides=overrides)


@st.composite
def edited_genomes(draw: st.DrawFn, max_depth: int = 8, max_steps: int = 4) -> Genome:
    """A `genomes` draw followed by up to `max_steps` random valid edits."""
    genome = draw(genomes(max_depth=max_depth))
    for _ in range(draw(st.integers(0, max_steps))):
        edits = valid_edits(genome, max_depth)
        if not edits:
            break
        genome = apply_edit(genome, draw(st.sampled_from(edits)), max_depth)
    return genome
