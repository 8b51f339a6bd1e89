"""The Pareto archive: front tracking, hypervolume against hand values and pymoo, saving."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from livgym.rewards.objectives import Objective, ObjectiveSet
from livgym.rewards.pareto import ParetoArchive


SCALE = 4.0  # raw values 0..4 map to utilities 0..1, so hand-made points stay easy to read


def identity_objectives(k: int) -> ObjectiveSet:
    """k maximised linear objectives u0..u{k-1} whose utility is the raw value / SCALE."""
    return ObjectiveSet(tuple(Objective(f"u{i}", "max", "linear", ideal=SCALE, nadir=0.0) for i in range(k)))


def point(*values: float) -> dict[str, float]:
    return {f"u{i}": v for i, v in enumerate(values)}


def test_known_2d_front_and_hypervolume() -> None:
    archive = ParetoArchive(identity_objectives(2))
    assert archive.hypervolume() == 0.0
    for key, values in [("a", (1, 3)), ("b", (2, 2)), ("c", (3, 1))]:
        assert archive.add(key, point(*values))
    assert archive.hypervolume() == pytest.approx(6.0 / SCALE ** 2)  # 3 + 2 + 1 unit columns
    assert not archive.add("d", point(1, 1))  # dominated: kept but not on the front
    assert archive.add("e", point(2, 2))  # equal to "b" under another key: non-dominated too
    assert [e.key for e in archive.front()] == ["a", "b", "c", "e"]
    assert archive.hypervolume() == pytest.approx(6.0 / SCALE ** 2)
    assert archive.hypervolume_ratio() == archive.hypervolume()  # the default reference: the unit box
    assert len(archive) == 5 and "d" in archive


def test_new_point_evicts_what_it_dominates() -> None:
    archive = ParetoArchive(identity_objectives(2))
    for key, values in [("a", (1, 3)), ("b", (2, 2)), ("c", (3, 1))]:
        archive.add(key, point(*values))
    assert archive.add("d", point(2.5, 2.5))
    assert [e.key for e in archive.front()] == ["a", "c", "d"]
    assert archive.hypervolume() == pytest.approx((1 * 3 + 1.5 * 2.5 + 0.5 * 1) / SCALE ** 2)


def test_duplicate_keys_are_ignored() -> None:
    archive = ParetoArchive(identity_objectives(2))
    assert archive.add("a", point(1, 1), payload={"genome": "11111"})
    assert not archive.add("a", point(5, 5), payload={"genome": "21111"})
    assert len(archive) == 1
    assert archive.front()[0].utilities == (1 / SCALE, 1 / SCALE) and archive.front()[0].payload == {"genome": "11111"}


def test_points_not_beating_the_reference_point_add_nothing() -> None:
    archive = ParetoArchive(identity_objectives(2), reference_point=np.array([0.5, 0.5]) / SCALE)
    archive.add("a", point(3.0, 0.5))  # on the front, but not strictly above the reference
    assert archive.hypervolume() == 0.0
    archive.add("b", point(1.5, 1.5))
    assert archive.hypervolume() == pytest.approx(1.0 / SCALE ** 2)
    assert archive.hypervolume_ratio() == pytest.approx(1.0 / 3.5 ** 2)  # of the 3.5 x 3.5 box above it
    negative = ParetoArchive(identity_objectives(2))
    negative.add("worse-than-nadir", point(-0.5, 2.0))  # clipped to the nadir: never strictly above it
    assert negative.entries()[0].utilities == (0.0, 0.5) and negative.hypervolume() == 0.0


def test_utilities_beyond_the_ideal_are_clipped_so_the_hypervolume_is_a_fraction() -> None:
    archive = ParetoArchive(identity_objectives(2))
    archive.add("beyond", point(2 * SCALE, 3 * SCALE))
    assert archive.entries()[0].utilities == (1.0, 1.0) and archive.entries()[0].metrics == point(8.0, 12.0)
    assert archive.hypervolume() == pytest.approx(1.0) and archive.hypervolume_ratio() == pytest.approx(1.0)


def test_nan_utilities_never_join_the_front() -> None:
    archive = ParetoArchive(identity_objectives(2))
    assert not archive.add("diverged", point(math.nan, 5.0))
    assert archive.front() == [] and len(archive) == 1


def test_front_and_hypervolume_match_pymoo_on_random_3d_points() -> None:
    rng = np.random.default_rng(0)
    utilities = rng.random((60, 3))
    utilities[:, 2] = 1 - utilities[:, 0] * utilities[:, 1] + 0.1 * rng.random(60)  # a spread-out front
    archive = ParetoArchive(identity_objectives(3))
    for i, u in enumerate(utilities):
        archive.add(f"p{i}", point(*u))
    expected_front = NonDominatedSorting().do(-utilities, only_non_dominated_front=True)
    assert sorted(int(e.key[1:]) for e in archive.front()) == sorted(expected_front.tolist())
    assert len(archive.front()) > 5
    direct = HV(ref_point=np.zeros(3))(-utilities / SCALE)
    assert archive.hypervolume() == pytest.approx(direct, rel=1e-12)


@pytest.mark.parametrize("reference", [np.zeros(3), np.array([0.0, 1.0]), np.array([-0.5, 0.0]),
                                       np.array([math.nan, 0.0])])
def test_reference_point_shape_and_range_are_checked(reference) -> None:
    with pytest.raises(ValueError, match=r"must be 2 utilities in \[0, 1\)"):
        ParetoArchive(identity_objectives(2), reference_point=reference)


def test_missing_metric_is_named() -> None:
    archive = ParetoArchive(identity_objectives(2))
    with pytest.raises(ValueError, match="'u1', which is missing"):
        archive.add("a", {"u0": 1.0})


def filled_archive() -> ParetoArchive:
    objectives = ObjectiveSet.from_names(["quality", "params"])
    archive = ParetoArchive(objectives, reference_point=np.array([0.1, 0.0]))
    archive.add("g1", {"quality": 0.9, "params": 1e6, "loss": 0.3}, payload={"genome": "11111-91111"})
    archive.add("g2", {"quality": 0.5, "params": 2e4}, payload={"genome": "51111"})
    archive.add("g3", {"quality": 0.4, "params": 1e6}, payload={})
    archive.add("g4", {"quality": math.nan, "params": 1e5})
    return archive


def test_json_round_trip(tmp_path: Path) -> None:
    archive = filled_archive()
    archive.to_json(tmp_path / "front.json")
    back = ParetoArchive.from_json(tmp_path / "front.json")
    assert back.objectives == archive.objectives
    np.testing.assert_array_equal(back.reference_point, archive.reference_point)
    assert [e.key for e in back.entries()] == [e.key for e in archive.entries()]
    assert [e.key for e in back.front()] == ["g1", "g2"]
    assert back.entries()[0].payload == {"genome": "11111-91111"} and back.entries()[0].metrics["loss"] == 0.3
    assert math.isnan(back.entries()[3].metrics["quality"])
    assert back.hypervolume() == pytest.approx(archive.hypervolume())


def test_csv_export(tmp_path: Path) -> None:
    archive = filled_archive()
    archive.to_csv(tmp_path / "front.csv")
    with (tmp_path / "front.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["key"] for row in rows] == ["g1", "g2", "g3", "g4"]
    assert [row["on_front"] for row in rows] == ["1", "1", "0", "0"]
    for row, entry in zip(rows, archive.entries()):
        utilities = [float(row["utility_quality"]), float(row["utility_params"])]
        np.testing.assert_array_equal(utilities, entry.utilities)  # NaN == NaN here
    assert rows[0]["loss"] == "0.3" and rows[1]["loss"] == ""
    assert rows[0]["payload"] == '{"genome": "11111-91111"}'
