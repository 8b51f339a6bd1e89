"""Named, oriented objectives, the scalarisers that turn them into one reward, and hard constraints.

An `Objective` maps a raw metric (quality, parameters, cache bytes, FLOPs per token, latency)
to a *utility*: 1 at its ideal value, 0 at its nadir, higher is better whatever the metric's
direction. Sizes and times span orders of magnitude, so they are normalised on a log10 scale.
Utilities are clipped to [0, 1]: a design better than the ideal scores as the ideal, one worse
than the nadir as the nadir. The clip is what lets every consumer rely on the unit range: a
weighted sum stays within the sum of its weights (no objective swamps the others by
extrapolating), a hypervolume above the all-nadir point is a fraction of the unit box, and a
reward range can be declared. Rankings beyond the reference points stay visible in the raw
metrics, which results, `info["objectives"]` and archives keep alongside the utilities.

Objectives are named from `DEFAULT_OBJECTIVES` or declared against any metric a search space
reports (`declare_objectives`: `{metric: accuracy, direction: max}`, with optional scale and
reference points); a space that knows its metrics' values (a table) gives the reference points
nobody declared, and declared ones are checked against those values when the env is built.

An `ObjectiveSet` turns a result's metrics into a utility vector (for the Pareto archive and a
multi-objective env's vector reward); a scalariser turns (utilities, metrics) into one float
reward. Scalarisers are small frozen dataclasses in the `SCALARISERS` registry; adding one is
one class and one registry line. `HardConstraints` names the budgets a design must meet; the env
masks edits with it, and any scalariser given `constraints` returns its `penalty` when they fail.

The modules: `objective` (`Objective`, `DEFAULT_OBJECTIVES`, `ObjectiveSet`), `declarations`
(`declare_objectives`) and `scalarisers` (the scalarisers and `HardConstraints`).
"""

from livgym.rewards.objectives.declarations import DECLARATION_FIELDS, ObjectiveItem, declare_objectives
from livgym.rewards.objectives.objective import (
    DEFAULT_OBJECTIVE_NAMES,
    DEFAULT_OBJECTIVES,
    DIRECTIONS,
    SCALES,
    Direction,
    Objective,
    ObjectiveSet,
    Scale,
)
from livgym.rewards.objectives.scalarisers import (
    SCALARISERS,
    Chebyshev,
    HardConstraints,
    MnasNet,
    Scalariser,
    WeightedSum,
    make_scalariser,
)

__all__ = [
    "DECLARATION_FIELDS",
    "DEFAULT_OBJECTIVES",
    "DEFAULT_OBJECTIVE_NAMES",
    "DIRECTIONS",
    "SCALARISERS",
    "SCALES",
    "Chebyshev",
    "Direction",
    "HardConstraints",
    "MnasNet",
    "Objective",
    "ObjectiveItem",
    "ObjectiveSet",
    "Scalariser",
    "Scale",
    "WeightedSum",
    "declare_objectives",
    "make_scalariser",
]
