"""Search plots: each writes a non-empty PNG, for real searches, hand-made quality fronts, empty and
one-record trackers, every reference genome and genomes that share featurizers or features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from livgym.controllers.budget import SearchTracker
from livgym.controllers.config import SearchConfig
from livgym.controllers.reporting.plots import plot_genome, plot_pareto, plot_progress, reference_metrics
from livgym.controllers.search import run_search
from livgym.models.genes import SharingStrategy
from livgym.models.genome import Genome, Slot
from livgym.models.reference import REFERENCE_GENOMES, reference_genome
from livgym.rewards.objectives import ObjectiveSet

torch.set_num_threads(1)  # a shared 2-core machine
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SHARED = SharingStrategy.SHARED


def assert_png(path: Path) -> None:
    assert path.exists() and path.stat().st_size > 1000, f"{path} is missing or nearly empty"
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG"


def hand_tracker(names: tuple[str, ...], n: int, seed: int = 0) -> SearchTracker:
    """A tracker fed `n` designs with random metrics, as the env's evaluation hook would; the first
    has a zero cache (a stateless design), which a log axis must still place."""
    rng = np.random.default_rng(seed)
    tracker = SearchTracker(ObjectiveSet.from_names(names), budget=max(n, 1))
    for i in range(n):
        metrics = {"quality": rng.uniform(0.1, 0.9), "params": 10 ** rng.uniform(4, 6),
                   "cache_bytes": 0.0 if i == 0 else 10 ** rng.uniform(3, 7), "flops": 10 ** rng.uniform(5, 7)}
        utilities = tracker.objectives.vector(metrics)
        tracker({"genome_hash": f"h{i}", "genome": "91111@w64h4", "status": "ok", "cache_hit": False,
                 "metrics": metrics, "utilities": list(utilities)}, float(np.mean(utilities)))
    return tracker


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> SearchTracker:
    """A real (analytic-fidelity) random search: costs only, no quality objective."""
    config = SearchConfig(method="random", budget=8, space={"max_depth": 4, "fidelity": "analytic"},
                          env={"max_edits": 3, "objectives": ["params", "cache_bytes"]})
    tracker = run_search(config, None, store=tmp_path_factory.mktemp("store") / "store.sqlite").tracker
    assert tracker.used == 8 and len(tracker.archive.front()) >= 1
    return tracker


def test_search_plots_with_references(searched, tmp_path):
    references = reference_metrics(64, 4, depth=4)
    assert set(references) == set(REFERENCE_GENOMES)
    assert all({"params", "cache_bytes", "flops"} <= set(m) and "quality" not in m for m in references.values())
    assert plot_pareto(searched, tmp_path / "pareto.png", references) == tmp_path / "pareto.png"
    assert_png(tmp_path / "pareto.png")
    assert_png(plot_progress(searched, tmp_path / "nested" / "progress.png"))


@pytest.mark.parametrize("names", [("quality", "params", "cache_bytes"), ("quality", "flops"), ("params",)])
def test_pareto_with_hand_made_metrics(names, tmp_path):
    tracker = hand_tracker(names, 20)
    # References with a quality are points, without one marks on the cost axis: draw both kinds.
    references = {**reference_metrics(64, 4, depth=4), "trained-reference": {"quality": 0.5, "params": 2e5,
                                                                             "cache_bytes": 1e5, "flops": 1e6}}
    assert_png(plot_pareto(tracker, tmp_path / "pareto.png", references))
    assert_png(plot_pareto(tracker, tmp_path / "bare.png"))


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_single_record_trackers_plot(n, tmp_path):
    tracker = hand_tracker(("quality", "params", "cache_bytes"), n)
    assert_png(plot_pareto(tracker, tmp_path / "pareto.png", reference_metrics(64, 4, depth=4)))
    assert_png(plot_pareto(tracker, tmp_path / "no-references.png"))
    assert_png(plot_progress(tracker, tmp_path / "progress.png"))


def test_reference_metrics_leave_out_what_cannot_be_built():
    references = reference_metrics(64, 2, depth=4)  # GQA's K/V repeat 4 needs heads divisible by 4
    assert "gqa-transformer" not in references and "transformer++" in references


@pytest.mark.parametrize("name", list(REFERENCE_GENOMES))
def test_every_reference_genome_plots(name, tmp_path):
    assert_png(plot_genome(reference_genome(name, depth=6, width=64, heads=4), tmp_path / f"{name}.png"))


def test_genomes_with_sharing_plot(tmp_path):
    kv = reference_genome("kv-sharing-transformer", depth=6, width=64, heads=4)
    assert kv.feature_source(2) == 0, "the fixture should share K/V"
    assert_png(plot_genome(kv, tmp_path / "kv.png"))
    # Slots 0 and 2 share a featurizer; 4 produces features that 6 consumes.
    both = Genome((Slot(1, 1, SHARED), Slot(9), Slot(1, 1, SHARED), Slot(9), Slot(1, 1, 1, 2, SHARED), Slot(9),
                   Slot(1, 1, 1, 2, SHARED), Slot(5)), width=64, heads=4)
    assert both.featurizer_source(2) == 0 and both.feature_source(6) == 4
    assert_png(plot_genome(both, tmp_path / "both.png"))
    assert_png(plot_genome(Genome((Slot(9),), width=64, heads=4), tmp_path / "one-slot.png"))


def text_boxes(fig, keep_ticks: list) -> list:
    """(text, window extent) of every visible, non-empty text of a drawn figure: titles, axis
    labels, legend entries, and of the tick labels only those in `keep_ticks` (matplotlib keeps
    labels for ticks outside the view, which it does not draw)."""
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    ticks = {id(label) for ax in fig.axes for label in [*ax.get_xticklabels(which="both"),
                                                         *ax.get_yticklabels(which="both")]}
    ticks -= {id(label) for label in keep_ticks}
    return [(t.get_text(), t.get_window_extent(renderer)) for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and id(t) not in ticks]


def test_cost_only_references_are_named_on_their_own_rows_and_no_label_overprints(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from livgym.controllers.reporting.plots import pareto_figure

    tracker = hand_tracker(("quality", "params", "cache_bytes"), 20)
    references = reference_metrics(64, 4, depth=8)  # several cost nearly the same params
    fig = pareto_figure(tracker, references)
    FigureCanvasAgg(fig)
    strips = [ax for ax in fig.axes if ax.get_title(loc="left")]
    boxes = text_boxes(fig, [label for ax in strips for label in ax.get_yticklabels()])
    texts = [text for text, _ in boxes]
    for name in references:
        assert texts.count(name) == 2, f"{name}: one named row under each cost panel"
    assert texts.count("reference genomes: cost only (quality not measured)") == 2
    whole = fig.bbox
    for i, (text, box) in enumerate(boxes):
        assert whole.x0 <= box.x0 and box.x1 <= whole.x1 and whole.y0 <= box.y0 and box.y1 <= whole.y1, \
            f"{text!r} is clipped by the figure's edge"
        for other, other_box in boxes[i + 1:]:
            assert not box.overlaps(other_box), f"{text!r} overprints {other!r}"
    markers = [tuple(line.get_ydata()) for ax in strips for line in ax.get_lines()]
    assert len(markers) == 2 * len(references) and len(set(markers)) == len(references), "one row each"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert not set(legend) & set(references), "cost-only references are named on their rows, not the legend"


@pytest.mark.parametrize("depth", [1, 6, 24])
def test_a_block_diagram_s_title_fits_its_figure(depth):
    from livgym.models.diagram import draw_genome

    fig = draw_genome(reference_genome("striped-hybrid", depth=depth, width=64, heads=4))
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    title = fig.get_suptitle()
    box = next(t for t in fig.texts if t.get_text() == title).get_window_extent(renderer)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1, f"{title!r} is clipped"
