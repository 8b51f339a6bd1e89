"""The statistics that reports print, written once: a mean's 95 % Student-t interval, Welch's
t-test and a seeded percentile-bootstrap interval.

`livgym compare` and the benchmark scripts all report means over seeds with a 95 % interval
and compare methods with Welch's test; one definition keeps their tables comparable, and keeps
scipy's warnings about nearly constant samples (which change no number) out of their output.
"""

from __future__ import annotations

import random
import warnings
from typing import Callable, Sequence, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

CONFIDENCE = 0.95  # of every interval here

Sample = TypeVar("Sample")


def t_half_width(values: ArrayLike, axis: int = 0, single: float = float("nan")) -> np.ndarray:
    """Half-width of the Student-t confidence interval of the mean along `axis`: the t quantile
    at n - 1 degrees of freedom times the sample standard deviation (ddof 1) over sqrt(n).

    With fewer than two values along `axis` there is no spread to measure; the result is then
    `single` everywhere: NaN (the default) where a report must show that no interval exists,
    0 where a plot draws no band. A 1-D input gives a numpy scalar, an N-D one an array.
    """
    array = np.asarray(values, dtype=np.float64)
    n = array.shape[axis]
    if n < 2:
        return np.full(np.delete(array.shape, axis), single)[()]
    return stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * array.std(axis=axis, ddof=1) / np.sqrt(n)


def mean_interval(values: ArrayLike, single: float = float("nan")) -> tuple[float, float]:
    """(mean, half-width of its t-interval) of 1-D `values`: `single` as the half-width of fewer
    than two values (`t_half_width`), and (NaN, `single`) for no values at all."""
    array = np.asarray(values, dtype=np.float64)
    mean = float(array.mean()) if len(array) else float("nan")
    return mean, float(t_half_width(array, single=single))


def welch_p(a: ArrayLike, b: ArrayLike) -> float:
    """Two-sided p of Welch's t-test (unequal variances) that `a` and `b` have equal means.

    NaN when either sample has fewer than two values (no variance to estimate). When both are
    constant the test is 0 / 0 (scipy answers NaN); the answer here is its limit instead: 1.0
    when the two constants are equal (no evidence of a difference), 0.0 when they differ (zero
    spread makes any difference certain). scipy's RuntimeWarnings about precision loss on nearly
    constant samples are silenced: the p-value is still computed and reported.
    """
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(x) < 2 or len(y) < 2:
        return float("nan")
    if np.std(x) == 0 and np.std(y) == 0:
        return 1.0 if x.mean() == y.mean() else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(x, y, equal_var=False).pvalue)


def bootstrap_interval(samples: Sequence[Sample], statistic: Callable[[list[Sample]], float],
                       resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval (`CONFIDENCE`) of `statistic` over `samples`, seeded.

    Each resample draws len(samples) samples with replacement (`random.Random(seed)`); a
    sample may be a tuple, e.g. a pair for a rank correlation. Resamples whose statistic is
    NaN are dropped; with none left the interval is (NaN, NaN). Written out rather than
    `scipy.stats.bootstrap`, which turns the whole interval into NaN when any resample's
    statistic is undefined (a rank correlation of one sample drawn over and over).
    """
    rng = random.Random(seed)
    values = []
    for _ in range(resamples):
        value = statistic([samples[rng.randrange(len(samples))] for _ in samples])
        if value == value:
            values.append(value)
    if not values:
        return float("nan"), float("nan")
    values.sort()
    last = len(values) - 1
    return values[int((0.5 - CONFIDENCE / 2) * last)], values[int((0.5 + CONFIDENCE / 2) * last)]
