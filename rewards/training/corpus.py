"""A byte-level text corpus that every machine already has: the Python standard library's source.

The byte-level language-model proxy needs real text without a download. By default that is the
`*.py` source of the running interpreter's standard library (`sysconfig.get_paths()["stdlib"]`,
about 11 MB on Python 3.11), with these left out:
- directories named `site-packages` (installed packages, not the standard library), `test`
  and `tests` (huge, repetitive test suites), `idlelib`, `lib2to3`, `ensurepip`, `turtledemo`
  (applications, a deprecated tool, bundled wheels, demos) and `__pycache__`, at any depth;
- directories whose name starts with `config-` (the build's `python-config` scripts) and
  files named `_sysconfigdata_*.py` (the build's settings, different on every installation),
  so that two machines with the same Python version read the same bytes.
Python versions differ in their standard library, so `content_hash` (recorded with results)
differs too: a result only answers for the corpus it was measured on.

A user may name a folder instead (every file whose name matches one of `patterns`, default
`*.py`, at any depth, skipping hidden directories and files and `__pycache__`) or one file.

Files are read in sorted order of their relative POSIX path and held out BY FILE: the
`heldout_fraction` of files (at least one) that come first when ordered by the SHA-256 of
their relative path, so the split depends on names only and never on the sampling seed.
A single file is split by bytes instead: its last `heldout_fraction` of bytes are held out.
Files are concatenated without separators.

    >>> import torch
    >>> from livgym.rewards.training.corpus import CorpusConfig, load_corpus, sample_batch
    >>> corpus = load_corpus(CorpusConfig())
    >>> inputs, targets = sample_batch(corpus.train, 8, 128, torch.Generator().manual_seed(0))
    >>> inputs.shape, bool((inputs[:, 1:] == targets[:, :-1]).all())
    (torch.Size([8, 128]), True)
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import sys
import sysconfig
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Literal

import torch
from torch import Tensor

STDLIB_EXCLUDED_DIRS = frozenset({"site-packages", "test", "tests", "idlelib", "lib2to3", "__pycache__",
                                  "ensurepip", "turtledemo"})
STDLIB_EXCLUDED_DIR_PREFIXES = ("config-",)
STDLIB_EXCLUDED_FILE_PREFIXES = ("_sysconfigdata_",)
DEFAULT_MAX_BYTES = 32 * 2**20


class CorpusError(ValueError):
    """A corpus path that cannot serve: missing, holding no matching files, or too small."""


@dataclass(frozen=True)
class CorpusConfig:
    """Which text to read and how to split it (one line each)."""

    path: str | None = None  # a text file or folder; None: the Python standard library's source
    heldout_fraction: float = 0.1  # share of files held out (of bytes, for a single file)
    max_bytes: int | None = DEFAULT_MAX_BYTES  # cap: whole files in sorted order while they fit
    patterns: tuple[str, ...] = ("*.py",)  # file-name globs read from a folder

    def __post_init__(self) -> None:
        if not 0.0 < self.heldout_fraction < 1.0:
            raise ValueError(f"heldout_fraction={self.heldout_fraction} must be in (0, 1)")
        if self.max_bytes is not None and self.max_bytes < 2:
            raise ValueError(f"max_bytes={self.max_bytes} must be >= 2 or None (no cap)")
        if not self.patterns:
            raise ValueError("patterns must name at least one file-name glob, e.g. ('*.py',)")


@dataclass(frozen=True, eq=False)
class ByteCorpus:
    """Bytes of a corpus, split into training and held-out text.

    The tensors are shared by every caller of `load_corpus` with the same config: read them,
    never write to them.
    """

    train: Tensor  # (bytes,) uint8
    heldout: Tensor  # (bytes,) uint8
    files_train: tuple[str, ...]  # relative POSIX paths (a single file: "name[start:end]")
    files_heldout: tuple[str, ...]
    content_hash: str  # SHA-256 over every selected file's relative path, length and bytes, in order
    source: str  # what was read, in words

    def sample(self, split: Literal["train", "heldout"], batch_size: int, seq_len: int,
               generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """`sample_batch` on one split, with an error naming this corpus if it is too small."""
        if split not in ("train", "heldout"):
            raise ValueError(f"split={split!r} must be 'train' or 'heldout'")
        return sample_batch(getattr(self, split), batch_size, seq_len, generator, f"the {split} split of {self.source}")

    def record(self) -> dict[str, object]:
        """What to store with a result: where the text came from and exactly which bytes."""
        return {"source": self.source, "content_hash": self.content_hash, "train_bytes": len(self.train),
                "heldout_bytes": len(self.heldout), "train_files": len(self.files_train),
                "heldout_files": len(self.files_heldout)}


def load_corpus(config: CorpusConfig) -> ByteCorpus:
    """The corpus of `config`, read once per process (cached by config, path made absolute)."""
    if config.path is not None:
        config = replace(config, path=os.path.abspath(os.path.expanduser(config.path)))
    return _load_cached(config)


def read_corpus(config: CorpusConfig) -> ByteCorpus:
    """Read the corpus of `config` from disk, without the cache."""
    if config.path is None:
        root = Path(sysconfig.get_paths()["stdlib"])
        source = (f"Python {sys.version.split()[0]} standard library at {root} ({', '.join(config.patterns)}; "
                  f"without {', '.join(sorted(STDLIB_EXCLUDED_DIRS))}, config-*, _sysconfigdata_*)")
        return _read_folder(root, _stdlib_files(root, config.patterns), config, source)
    path = Path(config.path)
    if path.is_file():
        return _read_file(path, config)
    if path.is_dir():
        return _read_folder(path, _folder_files(path, config.patterns), config,
                            f"folder {path} ({', '.join(config.patterns)})")
    raise CorpusError(f"corpus path {path} does not exist")


_load_cached = lru_cache(maxsize=8)(read_corpus)


def sample_batch(data: Tensor, batch_size: int, seq_len: int, generator: torch.Generator,
                 source: str = "the data") -> tuple[Tensor, Tensor]:
    """`batch_size` random windows of `data` (bytes) as int64 inputs (B, seq_len) and their
    next bytes as targets (B, seq_len): targets[:, t] = inputs[:, t + 1] within a window."""
    if data.dim() != 1:
        raise ValueError(f"{source} must be a 1-D byte tensor, got shape {tuple(data.shape)}")
    if len(data) < seq_len + 1:
        raise CorpusError(f"{source} holds {len(data)} bytes, fewer than seq_len + 1 = {seq_len + 1}")
    starts = torch.randint(len(data) - seq_len, (batch_size, 1), generator=generator)
    windows = data[starts + torch.arange(seq_len + 1)].long()
    return windows[:, :-1], windows[:, 1:]


# ----------------------------------------------------------------------------- file lists


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _walk(root: Path, skip_dir: Callable[[str], bool], skip_file: Callable[[str], bool],
          patterns: tuple[str, ...]) -> list[str]:
    """Relative POSIX paths of matching files under root, sorted; skipped directories are pruned."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not skip_dir(d)]
        relative = Path(folder).relative_to(root)
        found += [(relative / f).as_posix() for f in files if _matches(f, patterns) and not skip_file(f)]
    return sorted(found)


def _stdlib_files(root: Path, patterns: tuple[str, ...]) -> list[str]:
    return _walk(root, lambda d: d in STDLIB_EXCLUDED_DIRS or d.startswith(STDLIB_EXCLUDED_DIR_PREFIXES),
                 lambda f: f.startswith(STDLIB_EXCLUDED_FILE_PREFIXES), patterns)


def _folder_files(root: Path, patterns: tuple[str, ...]) -> list[str]:
    return _walk(root, lambda d: d.startswith(".") or d == "__pycache__", lambda f: f.startswith("."), patterns)


# ----------------------------------------------------------------------------- reading


def _read_folder(root: Path, names: list[str], config: CorpusConfig, source: str) -> ByteCorpus:
    if not names:
        raise CorpusError(f"corpus folder {root} holds no files matching {', '.join(config.patterns)} "
                          "(set CorpusConfig.patterns to the file names to read)")
    contents = _within_cap(root, names, config.max_bytes)
    if len(contents) < 2:
        raise CorpusError(f"corpus folder {root} gives {len(contents)} file(s) within max_bytes={config.max_bytes}; "
                          "holding out by file needs at least 2 (or name a single file to split it by bytes)")
    held = _heldout_names(list(contents), config.heldout_fraction)
    train = [name for name in contents if name not in held]
    heldout = [name for name in contents if name in held]
    return ByteCorpus(
        train=_as_tensor(b"".join(contents[name] for name in train)),
        heldout=_as_tensor(b"".join(contents[name] for name in heldout)),
        files_train=tuple(train), files_heldout=tuple(heldout),
        content_hash=_content_hash(contents.items()), source=source)


def _within_cap(root: Path, names: list[str], max_bytes: int | None) -> dict[str, bytes]:
    """Whole files in order while their total stays within max_bytes."""
    contents: dict[str, bytes] = {}
    total = 0
    for name in names:
        size = (root / name).stat().st_size
        if max_bytes is not None and total + size > max_bytes:
            break
        contents[name] = (root / name).read_bytes()
        total += len(contents[name])
    return contents


def _heldout_names(names: list[str], fraction: float) -> set[str]:
    """The first round(fraction * n) names (at least 1, at most n - 1) by SHA-256 of the name."""
    count = min(len(names) - 1, max(1, round(fraction * len(names))))
    return set(sorted(names, key=lambda name: hashlib.sha256(name.encode()).hexdigest())[:count])


def _read_file(path: Path, config: CorpusConfig) -> ByteCorpus:
    with path.open("rb") as file:
        data = file.read(-1 if config.max_bytes is None else config.max_bytes)
    heldout = max(1, round(config.heldout_fraction * len(data)))
    if len(data) - heldout < 1:
        raise CorpusError(f"corpus file {path} holds {len(data)} byte(s), too few to hold out a part")
    cut = len(data) - heldout
    return ByteCorpus(
        train=_as_tensor(data[:cut]), heldout=_as_tensor(data[cut:]),
        files_train=(f"{path.name}[0:{cut}]",), files_heldout=(f"{path.name}[{cut}:{len(data)}]",),
        content_hash=_content_hash([(path.name, data)]), source=f"file {path}")


def _content_hash(files: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _as_tensor(data: bytes) -> Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.zeros(0, dtype=torch.uint8)
