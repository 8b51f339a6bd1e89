"""The library version, recorded with every stored evaluation."""

__version__ = "0.1.0"
