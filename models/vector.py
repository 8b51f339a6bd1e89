"""A genome as a fixed-length integer vector, for observations and pymoo's integer variables.

The layout, for a search space's `max_depth`: `[width index, heads index]`, then the five
genes of each of `max_depth` slots (zero-padded past the genome's depth), then the 11 genes of
every registered class's genome (`CLASS_GENE_NAMES`, in `CLASS_IDS` order). Width and heads
are 1-based indices into their choice tables; the length depends on `max_depth` alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

import numpy as np

from livgym.models.genes import (
    DEFAULT_MAX_DEPTH,
    EXPANSIONS,
    HEADS,
    KERNELS,
    MAX_SHARING_GROUP,
    REPEATS,
    WIDTHS,
    WINDOWS,
    ChannelMixing,
    FeaturizerClass,
    Nonlinearity,
    Sparsity,
    TokenMixing,
    choice_index,
    choice_value,
)
from livgym.models.registry import CLASS_GENE_NAMES, CLASS_IDS, ClassGenome
from livgym.models.slot import SLOT_GENE_NAMES, Slot

if TYPE_CHECKING:
    from livgym.models.genome import Genome


def vector_length(max_depth: int = DEFAULT_MAX_DEPTH) -> int:
    return 2 + 5 * max_depth + len(CLASS_GENE_NAMES) * len(CLASS_IDS)


def vector_bounds(max_depth: int = DEFAULT_MAX_DEPTH) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive per-gene (low, high) of the flat vector, e.g. for pymoo's integer variables."""
    low = np.zeros(vector_length(max_depth), dtype=np.int64)
    high = np.zeros_like(low)
    low[:2] = 1
    high[:2] = (len(WIDTHS), len(HEADS))
    for i in range(max_depth):
        high[2 + 5 * i: 7 + 5 * i] = (len(CLASS_IDS), MAX_SHARING_GROUP, 2, MAX_SHARING_GROUP, 2)
    class_low = (1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0)
    class_high = (len(FeaturizerClass), len(TokenMixing), len(Sparsity), len(Nonlinearity), len(ChannelMixing),
                  len(EXPANSIONS), len(REPEATS), 1, len(WINDOWS), len(KERNELS), 1)
    base = 2 + 5 * max_depth
    for k in range(len(CLASS_IDS)):
        low[base + 11 * k: base + 11 * (k + 1)] = class_low
        high[base + 11 * k: base + 11 * (k + 1)] = class_high
    return low, high


def genome_to_vector(genome: Genome, max_depth: int = DEFAULT_MAX_DEPTH) -> np.ndarray:
    """The genome's vector (int64, `vector_length(max_depth)` long); deeper than `max_depth` is an error."""
    if genome.depth > max_depth:
        raise ValueError(f"depth={genome.depth} exceeds max_depth={max_depth}")
    vec = np.zeros(vector_length(max_depth), dtype=np.int64)
    vec[0] = choice_index(WIDTHS, genome.width, "width")
    vec[1] = choice_index(HEADS, genome.heads, "heads")
    for i, slot in enumerate(genome.slots):
        vec[2 + 5 * i: 7 + 5 * i] = slot.genes()
    base = 2 + 5 * max_depth
    for k, cid in enumerate(CLASS_IDS):
        vec[base + 11 * k: base + 11 * (k + 1)] = genome.class_genome(cid).to_vector()
    return vec


def genome_from_vector(cls: type[Genome], vector: Iterable[int], max_depth: int = DEFAULT_MAX_DEPTH) -> Genome:
    """The `cls` genome of a `genome_to_vector` vector; a gene that is not an integer (NaN, inf,
    2.5, text) is an error naming its position and gene."""
    if isinstance(max_depth, bool) or not isinstance(max_depth, (int, np.integer)) or max_depth < 1:
        raise ValueError(f"max_depth={max_depth!r} must be a positive integer")
    vec = _vector_ints(vector, int(max_depth))
    if len(vec) != vector_length(max_depth):
        raise ValueError(f"vector has length {len(vec)}, expected {vector_length(max_depth)} for max_depth={max_depth}")
    width = choice_value(WIDTHS, vec[0], "width")
    heads = choice_value(HEADS, vec[1], "heads")
    slots = []
    for i in range(max_depth):
        genes = vec[2 + 5 * i: 7 + 5 * i]
        if genes[0] == 0:
            if any(genes):
                raise ValueError(f"slots[{i}]: an empty slot (liv_class=0) must have all genes 0, got {genes}")
            continue
        if len(slots) != i:
            raise ValueError(f"slots[{i}]: follows an empty slot; slots must be contiguous from 0")
        slots.append(Slot(*genes))
    base = 2 + 5 * max_depth
    overrides = [(cid, ClassGenome.from_vector(vec[base + 11 * k: base + 11 * (k + 1)],
                                               where=f"class_overrides[{cid}]"))
                 for k, cid in enumerate(CLASS_IDS)]
    return cls(tuple(slots), width=width, heads=heads, class_overrides=tuple(overrides))


def _vector_gene(index: int, max_depth: int) -> str:
    """The name of a flat vector's entry (see the module docstring)."""
    if index < 2:
        return ("width index", "heads index")[index]
    if index < 2 + 5 * max_depth:
        slot, gene = divmod(index - 2, 5)
        return f"slots[{slot}].{SLOT_GENE_NAMES[gene]}"
    k, gene = divmod(index - 2 - 5 * max_depth, len(CLASS_GENE_NAMES))
    cid = CLASS_IDS[k] if k < len(CLASS_IDS) else "?"
    return f"class_overrides[{cid}].{CLASS_GENE_NAMES[gene]}"


def _vector_ints(vector: Iterable[int], max_depth: int) -> list[int]:
    """A flat vector's genes as Python ints; an entry that is not an integer is named."""
    if isinstance(vector, np.ndarray) and vector.dtype.kind in "iu":  # the common case: no entry to check
        return [int(v) for v in vector.reshape(-1)]
    if isinstance(vector, (str, bytes, Mapping)) or not isinstance(vector, Iterable):
        raise ValueError(f"a genome vector must be a sequence of integers, got {type(vector).__name__}")
    out = []
    for i, value in enumerate(vector):
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            out.append(int(value))
        elif isinstance(value, (float, np.floating)) and float(value).is_integer():
            out.append(int(value))
        else:
            raise ValueError(f"vector[{i}] ({_vector_gene(i, max_depth)})={value!r} must be an integer")
    return out
