"""LIV operators: one parameter-free mixer per token-mixing structure, fed by a featurizer."""

from livgym.models.operators.attention import Attention, LinearAttention
from livgym.models.operators.convolution import GatedConvolution
from livgym.models.operators.featurizer import Featurizer
from livgym.models.operators.memoryless import GatedUnit
from livgym.models.operators.operator import LIVOperator, make_mixer
from livgym.models.operators.recurrence import Recurrence, chunked_scan, sequential_scan

__all__ = [
    "Attention", "Featurizer", "GatedConvolution", "GatedUnit", "LIVOperator", "LinearAttention",
    "Recurrence", "chunked_scan", "make_mixer", "sequential_scan",
]
