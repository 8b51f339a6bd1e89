"""What a LIV genome looks like to a policy and to a surrogate model, as integer and float vectors.

`gene_indices` gives a slot's hyperparameter choices (the env's observation and the features
both read them); `genome_features` is the fixed-length vector model-based search fits its
surrogate on (`LIVSearchSpace.features` documents its layout); `structure` is a class genome's
structure genes, by which the space decides which class genomes it contains.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np

from livgym.envs.liv.actions import HYPERPARAMETER_GENES
from livgym.envs.liv.encoding import STRUCTURE_GENES
from livgym.models.genome import Genome
from livgym.models.registry import CLASSES_BY_ID, HYPERPARAMETER_CHOICES, ClassGenome
from livgym.models.sharing import SharingLayout


@lru_cache(maxsize=4096)
def gene_indices(cg: ClassGenome) -> tuple[int, ...]:
    """Choice index + 1 of each editable gene of a class genome (0 where the class ignores it)."""
    used = cg.used_genes()
    return tuple(HYPERPARAMETER_CHOICES[g].index(int(getattr(cg, g))) + 1 if g in used else 0
                 for g in HYPERPARAMETER_GENES)


def structure(cg: ClassGenome) -> tuple[int, ...]:
    """The class genome's structure genes (what it builds, its hyperparameters aside)."""
    vector = cg.to_vector()
    return tuple(vector[i] for i in STRUCTURE_GENES)


@lru_cache(maxsize=4096)
def class_column(classes: tuple[int, ...], cg: ClassGenome) -> int:
    """The one-hot column (1-based; 0 is the empty slot) that stands for a normalised class
    genome among `classes`: the first class whose registry genome it is, else the first with its
    structure (the hyperparameter genes tell the rest), else `len(classes) + 1` ("other").
    A function of the normalised genome alone, as the canonical hash is."""
    for k, c in enumerate(classes):
        if CLASSES_BY_ID[c].genome.normalized() == cg:
            return k + 1
    shape = structure(cg)
    for k, c in enumerate(classes):
        if structure(CLASSES_BY_ID[c].genome) == shape:
            return k + 1
    return len(classes) + 1


def genome_features(genome: Genome, classes: tuple[int, ...], max_depth: int,
                    cheap_metrics: Mapping[str, float], metric_names: Sequence[str]) -> np.ndarray:
    """The read-only float64 feature vector of `genome` in a space of `classes` and `max_depth`
    (layout: `LIVSearchSpace.features`), with its `cheap_metrics` of `metric_names`."""
    if genome.depth > max_depth:
        raise ValueError(f"genome {genome.to_string()!r} has depth {genome.depth} > max_depth={max_depth}")
    canon = genome.canonical()
    columns = len(classes) + 2  # empty, the classes, other
    sizes = np.array([len(HYPERPARAMETER_CHOICES[g]) for g in HYPERPARAMETER_GENES], dtype=np.float64)
    per_slot = np.zeros((max_depth, columns + 2 + len(sizes)), dtype=np.float64)
    per_slot[canon.depth:, 0] = 1.0
    histogram = np.zeros(columns - 1, dtype=np.float64)
    layout = SharingLayout.of(canon.slots)
    for p in range(canon.depth):
        cg = canon.slot_genome(p)
        column = class_column(classes, cg.normalized())
        per_slot[p, column] = 1.0
        histogram[column - 1] += 1.0
        per_slot[p, columns] = (p - layout.featurizer.producer(p)) / max_depth
        per_slot[p, columns + 1] = (p - layout.feature.producer(p)) / max_depth
        per_slot[p, columns + 2:] = np.asarray(gene_indices(cg), dtype=np.float64) / sizes
    values = np.array([cheap_metrics[name] for name in metric_names], dtype=np.float64)
    out = np.concatenate([per_slot.reshape(-1), histogram / max_depth, [canon.depth / max_depth],
                          np.log10(1.0 + values)])
    out.flags.writeable = False
    return out
