"""A search's progress on stderr, for `run_search(progress=...)`.

On a terminal, a tqdm bar over the budget of unique evaluations, with elapsed time, ETA and the
search's state after it: revisits (free, but they take time: a converging policy spends more
and more of the run on them), best reward, the best value of the first objective and hypervolume. Elsewhere (a log
file, CI) a plain line every `every` unique evaluations and a last one when the search ends,
or nothing with `every=0`, so logs hold no carriage returns.

```python
with ProgressBar() as progress:
    run_search(config, out_dir, progress=progress)
```
"""

from __future__ import annotations

import math
import sys
import time
from types import TracebackType
from typing import TextIO

from tqdm import tqdm

from livgym.controllers.budget import SearchTracker

REFRESH_S = 0.25  # at most four redraws a second: revisits can come by the thousand


class ProgressBar:
    """Callable with the search's tracker after every finished design; `close` ends the display."""

    def __init__(self, stream: TextIO | None = None, every: int = 10, terminal: bool | None = None) -> None:
        if every < 0:
            raise ValueError(f"every={every} must be 0 (no lines) or a positive number of evaluations")
        self.stream = sys.stderr if stream is None else stream
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.every = every
        self.bar: tqdm | None = None
        self.started = time.monotonic()
        self._last_line = 0  # unique evaluations at the last plain line
        self._last_refresh = -math.inf
        self._ended = False

    def __call__(self, tracker: SearchTracker) -> None:
        if self._ended:
            return
        if self.terminal:
            self._draw(tracker)
        elif self.every and (tracker.used - self._last_line >= self.every or tracker.done) and tracker.used:
            self._last_line = tracker.used
            print(self.line(tracker), file=self.stream, flush=True)
        if tracker.done:
            self.close()

    def _draw(self, tracker: SearchTracker) -> None:
        if self.bar is None:
            self.bar = tqdm(total=tracker.budget, desc="evaluations", unit="eval", file=self.stream,
                            dynamic_ncols=True, mininterval=REFRESH_S, leave=True)
        now = time.monotonic()
        if tracker.done or now - self._last_refresh >= REFRESH_S:
            self._last_refresh = now
            self.bar.n = tracker.used
            self.bar.set_postfix_str(_state(tracker), refresh=False)
            self.bar.refresh()

    def line(self, tracker: SearchTracker) -> str:
        """One plain progress line: evaluations of the budget, the search's state, elapsed and ETA."""
        elapsed = time.monotonic() - self.started
        eta = elapsed / tracker.used * tracker.remaining if tracker.used and not tracker.done else 0.0
        return (f"  evaluations {tracker.used}/{tracker.budget}  {_state(tracker)}  "
                f"elapsed {_clock(elapsed)}  eta {_clock(eta)}")

    def close(self) -> None:
        """End the display (idempotent): the bar stays on screen as the search left it."""
        self._ended = True
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def _state(tracker: SearchTracker) -> str:
    parts = [f"revisits {tracker.revisits}"]
    if math.isfinite(tracker.best_reward):
        parts.append(f"best reward {tracker.best_reward:.4f}")
    if math.isfinite(tracker.best_first):
        parts.append(f"best {tracker.objectives.names[0]} {tracker.best_first:.4g}")
    if tracker.records:  # the front's hypervolume as of the latest new design
        parts.append(f"hypervolume {tracker.records[-1].hypervolume:.4f}")
    if tracker.stalled:
        parts.append(f"(stopped: {tracker.patience} revisits in a row, nothing new)")
    return "  ".join(parts)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
