"""The LIV search space: genome, operator registry, model compiler and analytic cost model."""

from livgym.models.compiler import LIVModel, ModelCache, build_model
from livgym.models.cost import Efficiency, efficiency
from livgym.models.edits import (
    Edit,
    Insert,
    Remove,
    Replace,
    SetHyperparameter,
    ShareWith,
    Unshare,
    apply_edit,
    valid_edits,
)
from livgym.models.genome import Genome, Slot, vector_bounds, vector_length
from livgym.models.reference import REFERENCE_GENOMES, reference_genome
from livgym.models.registry import CLASSES_BY_ID, LIV_CLASSES, ClassGenome, LIVClass, liv_class

__all__ = [
    "CLASSES_BY_ID", "ClassGenome", "Edit", "Efficiency", "Genome", "Insert", "LIVClass", "LIVModel",
    "LIV_CLASSES", "ModelCache", "REFERENCE_GENOMES", "Remove", "Replace", "SetHyperparameter",
    "ShareWith", "Slot", "Unshare", "apply_edit", "build_model", "efficiency", "liv_class",
    "reference_genome", "valid_edits", "vector_bounds", "vector_length",
]
