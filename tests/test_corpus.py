"""The byte corpus: deterministic stdlib default, file-level held-out split, user paths, sampler."""

from __future__ import annotations

import hashlib
import re

import pytest
import torch

from livgym.rewards.training.corpus import (
    STDLIB_EXCLUDED_DIRS,
    CorpusConfig,
    CorpusError,
    load_corpus,
    read_corpus,
    sample_batch,
)


@pytest.fixture(scope="module")
def stdlib():
    return load_corpus(CorpusConfig())


def test_default_corpus_is_deterministic(stdlib):
    again = read_corpus(CorpusConfig())  # a second read from disk, not the cached object
    assert again.files_train == stdlib.files_train and again.files_heldout == stdlib.files_heldout
    assert again.content_hash == stdlib.content_hash
    assert torch.equal(again.train, stdlib.train) and torch.equal(again.heldout, stdlib.heldout)
    assert load_corpus(CorpusConfig()) is stdlib  # cached per process


def test_default_corpus_files_and_split(stdlib):
    files = stdlib.files_train + stdlib.files_heldout
    assert stdlib.files_train and stdlib.files_heldout
    assert not set(stdlib.files_train) & set(stdlib.files_heldout)
    assert list(stdlib.files_train) == sorted(stdlib.files_train)
    assert all(name.endswith(".py") for name in files)
    for name in files:
        parts = name.split("/")
        assert not set(parts[:-1]) & STDLIB_EXCLUDED_DIRS, name
        assert not parts[-1].startswith("_sysconfigdata_") and not parts[0].startswith("config-"), name
    assert "functools.py" in files and "json/decoder.py" in files
    assert 0.05 < len(stdlib.files_heldout) / len(files) < 0.15
    assert len(stdlib.train) > 1_000_000 and len(stdlib.heldout) > 50_000
    assert stdlib.train.dtype == torch.uint8 and stdlib.record()["content_hash"] == stdlib.content_hash


def test_max_bytes_takes_whole_files_in_order(stdlib):
    capped = read_corpus(CorpusConfig(max_bytes=300_000))
    files = sorted(capped.files_train + capped.files_heldout)
    everything = sorted(stdlib.files_train + stdlib.files_heldout)
    assert files == everything[:len(files)] and len(files) >= 2
    assert len(capped.train) + len(capped.heldout) <= 300_000
    assert capped.content_hash != stdlib.content_hash


def write_folder(tmp_path, count: int = 12):
    for i in range(count):
        folder = tmp_path / ("sub" if i % 3 == 0 else "")
        folder.mkdir(exist_ok=True)
        (folder / f"note{i:02d}.txt").write_text(f"file {i}: " + "abcdefghij" * (i + 1) + "\n")
    (tmp_path / "ignored.bin").write_bytes(b"\x00\x01")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "secret.txt").write_text("not read")


def test_user_folder(tmp_path):
    write_folder(tmp_path)
    corpus = load_corpus(CorpusConfig(path=str(tmp_path), patterns=("*.txt",)))
    files = sorted(corpus.files_train + corpus.files_heldout)
    assert files == sorted([f"note{i:02d}.txt" for i in range(12) if i % 3] +
                           [f"sub/note{i:02d}.txt" for i in range(0, 12, 3)])
    assert len(corpus.files_heldout) == 1 and not set(corpus.files_train) & set(corpus.files_heldout)
    expected = b"".join((tmp_path / name).read_bytes() for name in corpus.files_train)
    assert bytes(corpus.train.tolist()) == expected
    digest = hashlib.sha256()
    for name in files:
        data = (tmp_path / name).read_bytes()
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    assert corpus.content_hash == digest.hexdigest()
    assert str(tmp_path) in corpus.source


def test_user_file_is_split_by_bytes(tmp_path):
    path = tmp_path / "book.txt"
    path.write_bytes(bytes(range(256)) * 4)
    corpus = load_corpus(CorpusConfig(path=str(path), heldout_fraction=0.25))
    assert len(corpus.train) == 768 and len(corpus.heldout) == 256
    assert bytes(corpus.train.tolist()) + bytes(corpus.heldout.tolist()) == path.read_bytes()
    assert corpus.files_train == ("book.txt[0:768]",) and corpus.files_heldout == ("book.txt[768:1024]",)


def test_errors_name_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(CorpusError, match=re.escape(str(missing))):
        load_corpus(CorpusConfig(path=str(missing)))
    write_folder(tmp_path)
    with pytest.raises(CorpusError, match=re.escape(str(tmp_path)) + r".*no files matching \*\.py"):
        load_corpus(CorpusConfig(path=str(tmp_path)))
    with pytest.raises(CorpusError, match="at least 2"):
        load_corpus(CorpusConfig(path=str(tmp_path / "sub"), patterns=("note00.txt",)))
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("x")
    with pytest.raises(CorpusError, match=re.escape(str(tiny))):
        load_corpus(CorpusConfig(path=str(tiny)))
    small = load_corpus(CorpusConfig(path=str(tmp_path / "note01.txt")))
    with pytest.raises(CorpusError, match=re.escape(str(tmp_path / "note01.txt"))):
        small.sample("heldout", 2, 64, torch.Generator())
    with pytest.raises(ValueError, match="heldout_fraction"):
        CorpusConfig(heldout_fraction=0.0)


def test_sampler_is_deterministic_and_targets_are_next_bytes(stdlib):
    a = sample_batch(stdlib.train, 8, 64, torch.Generator().manual_seed(1))
    b = sample_batch(stdlib.train, 8, 64, torch.Generator().manual_seed(1))
    c = sample_batch(stdlib.train, 8, 64, torch.Generator().manual_seed(2))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and not torch.equal(a[0], c[0])
    inputs, targets = a
    assert inputs.shape == targets.shape == (8, 64) and inputs.dtype == targets.dtype == torch.long
    assert torch.equal(inputs[:, 1:], targets[:, :-1])
    data = torch.arange(100, dtype=torch.uint8)
    inputs, targets = sample_batch(data, 50, 99, torch.Generator().manual_seed(0))
    assert torch.equal(targets, inputs + 1)  # every window of an increasing sequence
    with pytest.raises(CorpusError, match="fewer than seq_len"):
        sample_batch(data, 1, 100, torch.Generator())
