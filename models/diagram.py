"""Pictures of designs: a genome's block diagram, a text card, and a window that shows them.

The block diagram draws a genome's slots left to right (input to output), one box per slot
labelled with its LIV class and coloured by token-mixing family, with brackets for featurizer
and feature sharing. It lives here, below the envs, so that an env can render its design
(`rgb_array` frames, a `human` window) and a search can save the same picture as a PNG
(`livgym.controllers.reporting.plots.plot_genome`).

Figures use matplotlib's object API on an Agg canvas (no pyplot): no display is needed and no
global figure registry is touched. Only `FrameWindow`, which exists to show a window, imports
pyplot, and only when it opens one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

from livgym.models.genes import TokenMixing
from livgym.models.genome import Genome
from livgym.models.registry import CLASSES_BY_ID

# Token-mixing family of a LIV class (its operator's T(x) structure) -> (label, colour).
FAMILIES: dict[TokenMixing, tuple[str, str]] = {
    TokenMixing.LOW_RANK: ("attention", "#4c72b0"),
    TokenMixing.SEMI_SEPARABLE: ("recurrence", "#dd8452"),
    TokenMixing.TOEPLITZ: ("convolution", "#55a868"),
    TokenMixing.DIAGONAL: ("memoryless", "#a0a0a0"),
}
FEATURIZER_COLOUR = "#8172b3"  # arrows: a slot reuses another slot's featurizer Parameters
FEATURE_COLOUR = "#c44e52"  # arrows: a consumer reads a producer's cached feature groups (K/V, ...)
FRAME_DPI = 100  # frames are for screens and videos: lighter than the saved PNGs
#: matplotlib backends that draw off-screen only: with one of these there is no window to show
NON_INTERACTIVE_BACKENDS: frozenset[str] = frozenset({"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"})


def diagram_size(columns: int) -> tuple[float, float]:
    """(width, height) in inches of a diagram laid out for `columns` slots; very deep genomes
    get thin boxes rather than an unbounded figure."""
    return min(max(5.0, 1.5 + 0.45 * columns), 40.0), 3.4


def draw_genome(genome: Genome, columns: int | None = None) -> Figure:
    """The genome's block diagram on an Agg canvas, laid out for `columns` slots (default its
    depth; a larger value leaves room on the right, so that every design of a space makes a
    picture of one size). Arrows above join a slot to the slot whose featurizer it reuses,
    arrows below join a consumer to the producer whose cached feature groups (K/V, ...) it reads."""
    columns = genome.depth if columns is None else int(columns)
    if columns < genome.depth:
        raise ValueError(f"columns={columns} is fewer than the genome's {genome.depth} slots")
    fig = Figure(figsize=diagram_size(columns), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i in range(genome.depth):
        _slot_box(ax, genome, i)
        _sharing_arrow(ax, genome.featurizer_source(i), i, above=True)
        _sharing_arrow(ax, genome.feature_source(i), i, above=False)
    ax.set_xlim(-0.6, columns - 0.4)
    ax.set_ylim(-0.7, 2.7)
    ax.axis("off")
    ax.legend(handles=_genome_legend(), fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, 0.0),
              frameon=False)
    # Two lines: on one, the narrowest (5-inch) diagram clips the title at both ends.
    fig.suptitle(f"genome {genome.canonical_hash()}: depth {genome.depth}, width {genome.width}, "
                 f"heads {genome.heads}\ninput left, output right", fontsize=9)
    return fig


def genome_rgb(genome: Genome, columns: int | None = None, dpi: int = FRAME_DPI) -> np.ndarray:
    """The block diagram (`draw_genome`) as an (height, width, 3) uint8 RGB array."""
    return figure_rgb(draw_genome(genome, columns), dpi)


def text_card(text: str, size: tuple[float, float] = (6.4, 1.6), dpi: int = FRAME_DPI) -> np.ndarray:
    """`text` (one or more lines, monospace) on a white card of a fixed `size` in inches, as an
    RGB array: a picture of one size for a design that has no diagram of its own."""
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    fig.text(0.02, 0.5, text, family="monospace", fontsize=8, ha="left", va="center", wrap=True)
    return figure_rgb(fig, dpi)


def figure_rgb(fig: Figure, dpi: int = FRAME_DPI) -> np.ndarray:
    """Render `fig` at `dpi` into an (height, width, 3) uint8 array and free its artists. Both
    sides are rounded to even pixel counts, which video encoders (H.264, yuv420p) require."""
    width, height = fig.get_size_inches()
    fig.set_size_inches(2 * round(width * dpi / 2) / dpi, 2 * round(height * dpi / 2) / dpi)
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    frame = np.array(canvas.buffer_rgba())[..., :3]
    fig.clear()
    return frame


class FrameWindow:
    """A matplotlib window that shows one frame at a time: how an env renders in `human` mode.

    It opens on the first frame, and only where matplotlib has an interactive backend (a
    display). With a non-interactive one (Agg: a headless machine, or `MPLBACKEND=Agg`) there is
    nothing to show: `available()` is False and `show` does nothing, so callers skip drawing.
    """

    def __init__(self, title: str, fps: float) -> None:
        self.title, self.pause = title, 1.0 / float(fps)
        self._figure: Any = None
        self._image: Any = None

    @staticmethod
    def available() -> bool:
        """Whether matplotlib's backend can show a window (pyplot picks Agg without a display)."""
        import matplotlib.pyplot as plt

        return plt.get_backend().lower() not in NON_INTERACTIVE_BACKENDS

    def show(self, frame: np.ndarray) -> None:
        if not self.available():
            return
        import matplotlib.pyplot as plt

        if self._figure is None or not plt.fignum_exists(self._figure.number):
            height, width = frame.shape[:2]
            self._figure = plt.figure(self.title, figsize=(width / FRAME_DPI, height / FRAME_DPI), dpi=FRAME_DPI)
            ax = self._figure.add_axes((0.0, 0.0, 1.0, 1.0))
            ax.axis("off")
            self._image = ax.imshow(frame)
            plt.show(block=False)
        else:
            self._image.set_data(frame)
        plt.pause(self.pause)  # draws the window and runs its event loop for one frame

    def close(self) -> None:
        if self._figure is not None:
            import matplotlib.pyplot as plt

            plt.close(self._figure)
            self._figure = self._image = None


def _slot_box(ax: Axes, genome: Genome, position: int) -> None:
    """Slot `position` as a box spanning y 0..2 centred on x = position."""
    _, colour = FAMILIES[genome.slot_genome(position).mixing]
    ax.add_patch(Rectangle((position - 0.4, 0.0), 0.8, 2.0, facecolor=colour, edgecolor="black", linewidth=0.6))
    name = CLASSES_BY_ID[genome.slots[position].liv_class].name
    fontsize = 8 if genome.depth <= 48 else 5
    ax.text(position, 1.0, name, rotation=90, ha="center", va="center", fontsize=fontsize)
    ax.text(position, 1.95, str(position), ha="center", va="top", fontsize=fontsize - 1)  # clear of the brackets


def _sharing_arrow(ax: Axes, source: int, target: int, above: bool) -> None:
    """A bracket from `source` to `target` over (or under) the boxes; nothing if they are one slot."""
    if source == target:
        return
    y = 2.0 if above else 0.0
    # Arms in points, so every bracket has one height whatever its span; a positive arm points to
    # the right of the source->target direction, which is rightward (sources precede targets): down.
    arm = -14 if above else 14
    ax.add_patch(FancyArrowPatch(
        (source, y), (target, y), arrowstyle="-|>", mutation_scale=8, shrinkA=0, shrinkB=0,
        connectionstyle=f"bar,armA={arm},armB={arm},fraction=0",
        color=FEATURIZER_COLOUR if above else FEATURE_COLOUR, linewidth=1.1))


def _genome_legend() -> list:
    families = [Patch(facecolor=colour, edgecolor="black", label=label) for label, colour in FAMILIES.values()]
    return [*families,
            Line2D([], [], color=FEATURIZER_COLOUR, label="shares featurizer of (above)"),
            Line2D([], [], color=FEATURE_COLOUR, label="reads cached features of (below)")]
