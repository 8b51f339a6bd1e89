"""A small least-recently-used memo for per-design work (masks, observations, metrics).

RL revisits the same designs constantly (every episode starts from the same few), so most of
an env step's cost is answered from here. `functools.lru_cache` would key on `self` and keep
spaces alive; this is a plain per-instance dict.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """`get(key, compute)`: the stored value, or `compute()` stored under `key`."""

    def __init__(self, maxsize: int = 4096) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize={maxsize} must be at least 1")
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        try:
            value = self._data[key]
        except KeyError:
            value = self._data[key] = compute()
            if len(self._data) > self.maxsize:
                self._data.popitem(last=False)
            return value
        self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Store `value` under `key`, replacing what was there."""
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def peek(self, key: K) -> V | None:
        """The stored value, or None, without computing or reordering."""
        return self._data.get(key)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
