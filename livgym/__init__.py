"""livgym: LIV architecture design as a Gymnasium environment."""

from livgym.version import __version__

__all__ = ["__version__"]
