"""One backbone slot of a genome: a LIV class and its two sharing (group, strategy) gene pairs.

A slot's five genes, in the order STAR's notation writes them, are `SLOT_GENE_NAMES`. Slots
with the same group number and strategy SHARED share (see `livgym.models.sharing`). A slot
checks nothing itself: the `Genome` that holds it validates every gene.
"""

from __future__ import annotations

from dataclasses import dataclass

from livgym.models.genes import SharingStrategy

SLOT_GENE_NAMES: tuple[str, ...] = (
    "liv_class", "featurizer_group", "featurizer_strategy", "feature_group", "feature_strategy",
)
_SHARED = SharingStrategy.SHARED


@dataclass(frozen=True)
class Slot:
    """One backbone slot: a LIV class and its two sharing (group, strategy) gene pairs."""

    liv_class: int
    featurizer_group: int = 1
    featurizer_strategy: int = SharingStrategy.INDEPENDENT
    feature_group: int = 1
    feature_strategy: int = SharingStrategy.INDEPENDENT

    @property
    def shares_featurizer(self) -> bool:
        return self.featurizer_strategy == _SHARED

    @property
    def shares_features(self) -> bool:
        return self.feature_strategy == _SHARED

    def genes(self) -> tuple[int, int, int, int, int]:
        return (self.liv_class, self.featurizer_group, int(self.featurizer_strategy),
                self.feature_group, int(self.feature_strategy))

    def independent(self) -> Slot:
        """The same class with both sharing pairs reset to independent."""
        return Slot(self.liv_class)
