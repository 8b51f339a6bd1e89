"""The Pareto archive: every evaluated design, its objectives' utilities, and the current front.

Points live in utility space (see `livgym.rewards.objectives`): one coordinate per objective,
higher is better, each in [0, 1]. The archive keeps every point it is given, tracks the
non-dominated ones (the front) and measures the front by its hypervolume above a reference
point, with pymoo's `HV`. The reference point lies in the unit box, so the hypervolume is at most
the box above it (1 for the default all-nadir point): `hypervolume_ratio` is that fraction.
It saves to JSON (lossless, reloadable) and CSV (for spreadsheets and plots).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from pymoo.indicators.hv import HV

from livgym.rewards.objectives import ObjectiveSet

JSON_FORMAT = "livgym.pareto/1"


@dataclass(frozen=True)
class ArchiveEntry:
    """One archived design: its key (e.g. a genome hash), raw metrics, utilities and payload."""

    key: str
    metrics: dict[str, float]
    utilities: tuple[float, ...]
    payload: dict[str, Any] = field(default_factory=dict)
    index: int = 0  # insertion order

    @property
    def finite(self) -> bool:
        return all(math.isfinite(u) for u in self.utilities)


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """True when `a` is at least as good as `b` everywhere and better somewhere (maximising)."""
    return bool(np.all(a >= b) and np.any(a > b))


class ParetoArchive:
    """All points added, and the non-dominated front among them, in utility space.

    `reference_point` (utility space, default all zeros: every objective at its nadir) bounds
    the hypervolume; a point that does not strictly beat it in every objective adds nothing.
    Each coordinate is in [0, 1): utilities never leave [0, 1], so a point outside would only
    inflate the volume by a constant and an all-one coordinate would leave nothing to measure.
    """

    def __init__(self, objectives: ObjectiveSet, reference_point: np.ndarray | None = None) -> None:
        self.objectives = objectives
        k = len(objectives)
        ref = np.zeros(k) if reference_point is None else np.asarray(reference_point, dtype=np.float64)
        if ref.shape != (k,) or not np.all((ref >= 0.0) & (ref < 1.0)):
            raise ValueError(f"reference_point={ref.tolist()} must be {k} utilities in [0, 1), one per objective "
                             f"{list(objectives.names)}")
        self.reference_point = ref
        self._entries: dict[str, ArchiveEntry] = {}
        self._front: list[str] = []  # keys, in insertion order

    def add(self, key: str, metrics: Mapping[str, float], payload: dict[str, Any] | None = None) -> bool:
        """Archive a point; True when it is on the front once added.

        A key already archived is ignored (False; the first point is kept). A point with a NaN
        utility (a diverged evaluation) is kept but never joins the front.
        """
        if key in self._entries:
            return False
        utilities = self.objectives.vector(metrics)
        entry = ArchiveEntry(key=key, metrics={k: float(v) for k, v in metrics.items()},
                             utilities=tuple(float(u) for u in utilities), payload=dict(payload or {}),
                             index=len(self._entries))
        self._entries[key] = entry
        if not entry.finite:
            return False
        # Checking the front suffices: a point dominated by any archived point is dominated by a
        # front member (dominance is transitive), so the update is O(front) rather than O(n).
        front = [np.asarray(self._entries[k].utilities) for k in self._front]
        if any(dominates(member, utilities) for member in front):
            return False
        self._front = [k for k, member in zip(self._front, front) if not dominates(utilities, member)]
        self._front.append(key)
        return True

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def entries(self) -> list[ArchiveEntry]:
        """Every archived point, in insertion order."""
        return list(self._entries.values())

    def front(self) -> list[ArchiveEntry]:
        """The non-dominated points, in insertion order (equal-utility points are all kept)."""
        return [self._entries[key] for key in self._front]

    def front_utilities(self) -> np.ndarray:
        """The front as an (n, k) float64 array of utilities."""
        return np.array([entry.utilities for entry in self.front()], dtype=np.float64).reshape(-1, len(self.objectives))

    def hypervolume(self) -> float:
        """Volume of utility space dominated by the front and above the reference point."""
        points = self.front_utilities()
        points = points[np.all(points > self.reference_point, axis=1)]
        if len(points) == 0:
            return 0.0
        # pymoo minimises: negate utilities and reference point alike.
        return float(HV(ref_point=-self.reference_point)(-points))

    def hypervolume_ratio(self) -> float:
        """The hypervolume as a fraction of the box between the reference point and the all-ideal
        point, in [0, 1] (the hypervolume itself for the default reference point)."""
        return self.hypervolume() / float(np.prod(1.0 - self.reference_point))

    # -- saving and loading ----------------------------------------------------------------

    def to_json(self, path: str | Path) -> None:
        """Save every point (with its payload), the objectives and the reference point."""
        on_front = set(self._front)
        data = {
            "format": JSON_FORMAT,
            **self.objectives.to_dict(),
            "reference_point": self.reference_point.tolist(),
            "entries": [{"key": e.key, "metrics": {k: _json_float(v) for k, v in e.metrics.items()},
                         "utilities": [_json_float(u) for u in e.utilities], "on_front": e.key in on_front,
                         "payload": e.payload} for e in self.entries()],
        }
        try:
            text = json.dumps(data, indent=1, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise ValueError(f"Pareto archive -> {path}: a payload is not JSON-serialisable ({err})") from err
        Path(path).write_text(text)

    @classmethod
    def from_json(cls, path: str | Path) -> ParetoArchive:
        """Reload a `to_json` file; utilities and the front are recomputed from the metrics."""
        data = json.loads(Path(path).read_text())
        if data.get("format") != JSON_FORMAT:
            raise ValueError(f"{path}: format {data.get('format')!r} is not {JSON_FORMAT!r}")
        archive = cls(ObjectiveSet.from_dict(data), np.asarray(data["reference_point"], dtype=np.float64))
        for item in data["entries"]:
            metrics = {k: (math.nan if v is None else float(v)) for k, v in item["metrics"].items()}
            archive.add(item["key"], metrics, item.get("payload"))
        return archive

    def to_csv(self, path: str | Path) -> None:
        """One row per point: key, on_front, a utility column per objective, every raw metric
        (the union over points; empty where a point lacks it) and the payload as JSON."""
        names = self.objectives.names
        metric_names = sorted({k for entry in self.entries() for k in entry.metrics})
        on_front = set(self._front)
        with Path(path).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["key", "on_front", *(f"utility_{n}" for n in names), *metric_names, "payload"])
            for e in self.entries():
                writer.writerow([e.key, int(e.key in on_front), *(repr(u) for u in e.utilities),
                                 *(repr(e.metrics[m]) if m in e.metrics else "" for m in metric_names),
                                 json.dumps(e.payload, sort_keys=True, default=str)])


def _json_float(value: float) -> float | None:
    """NaN and infinities are not JSON: null (read back as NaN)."""
    return value if math.isfinite(value) else None
