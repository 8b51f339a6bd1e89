"""livgym: LIV architecture design as a Gymnasium environment.

`import livgym` registers the environments `livgym/Design-v0` and `livgym/DesignMO-v0`.
"""

from livgym.version import __version__
import livgym.envs  # noqa: E402,F401  (registers the Gymnasium ids)

__all__ = ["__version__"]
