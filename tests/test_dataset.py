"""Evaluation datasets: results round-trip through a dataset file, importing is idempotent, an
imported result answers a later evaluation without training, bad files are refused by line, the
shipped datasets keep the fidelities' current keys, and the proxy-fidelity study's report
regenerates from a dataset alone."""

from __future__ import annotations

import gzip
import json
import math
import sys
from pathlib import Path

import pytest

from livgym.models import Genome
from livgym.rewards.evaluation.evaluator import Evaluator, make_evaluator
from livgym.rewards.evaluation.dataset import (export_dataset, import_dataset, read_dataset, shipped_dataset, shipped_datasets,
                                    write_dataset)
from livgym.rewards.evaluation.result import EvaluationResult
from livgym.rewards.evaluation.store import EvaluationStore

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
TINY = Genome.from_string("11111-91111@w64h4")
TINY_MAD = {"tasks": ("in_context_recall", "memorization"), "eval_sequences": 16,
            "train.steps": 4, "train.batch_size": 8, "train.eval_every": 2}


def _result(genome: Genome, fidelity: str, quality: float, status: str = "ok", **extra) -> EvaluationResult:
    evaluator = make_evaluator(fidelity)
    return EvaluationResult(
        genome_hash=genome.canonical_hash(), genome=genome.to_string(), evaluator=evaluator.name, fidelity=fidelity,
        config_hash=evaluator.config_hash(), seed=0, status=status,
        metrics={"quality": quality, "acc_in_context_recall": quality / 2}, wall_time=12.5, **extra)


def _genomes(count: int) -> list[Genome]:
    return [Genome.from_string(text) for text in ("11111-91111@w64h4", "51111-91111@w64h4", "71111-91111@w64h4",
                                                   "81111-91111@w64h4")[:count]]


def test_a_dataset_round_trips_and_is_written_deterministically(tmp_path):
    a, b = _genomes(2)
    results = [_result(a, "mad-lite", 0.75, config={"ran_on": "cpu", "train": {"steps": 400}}),
               _result(b, "mad-lite", math.nan, status="diverged", error="loss is nan at update 3\ntraceback ..."),
               _result(b, "zero-cost", 0.3)]
    path = tmp_path / "study.jsonl.gz"
    assert write_dataset(path, results) == 3
    first = path.read_bytes()
    assert write_dataset(path, results[::-1]) == 3 and path.read_bytes() == first, "same results, same bytes"
    back = {r.key: r for r in read_dataset(path)}
    assert set(back) == {r.key for r in results}
    for r in results:
        got = back[r.key]
        assert (got.genome, got.fidelity, got.status, got.wall_time, got.library_version, got.timestamp) == \
            (r.genome, r.fidelity, r.status, r.wall_time, r.library_version, r.timestamp)
        assert got.metrics.keys() == r.metrics.keys()
        for name, value in r.metrics.items():
            assert got.metrics[name] == value or math.isnan(got.metrics[name]) and math.isnan(value), name
    assert back[results[0].key].config == {"ran_on": "cpu"}, "where it ran is kept, the rest is the config hash"
    assert back[results[1].key].error == "loss is nan at update 3", "the error's first line"


def test_import_is_idempotent_and_export_merges(tmp_path):
    results = [_result(g, "mad-lite", 0.1 * i) for i, g in enumerate(_genomes(3))]
    path = tmp_path / "study.jsonl.gz"
    write_dataset(path, results)
    with EvaluationStore(tmp_path / "store.sqlite") as store:
        first, second = import_dataset(path, store), import_dataset(path, store)
        assert (first.added, first.present) == (3, 0)
        assert (second.added, second.present) == (0, 3)
        assert len(store) == 3
        store.put(_result(_genomes(4)[3], "zero-cost", 0.5))
        assert export_dataset(store, path, evaluators=["zero-cost"]) == 4, "merged with the file's three"
    assert len(list(read_dataset(path))) == 4


def test_an_imported_result_answers_without_training(tmp_path, monkeypatch):
    evaluator = make_evaluator("mad-lite-short", **TINY_MAD)
    with EvaluationStore(tmp_path / "a.sqlite") as store:
        trained, cached = store.evaluate_cached(evaluator, TINY)
        assert trained.ok and not cached
        export_dataset(store, tmp_path / "d.jsonl.gz")

    def no_training(self, genome, seed):
        raise AssertionError("trained although the dataset holds the result")

    monkeypatch.setattr(type(evaluator), "_measure", no_training)
    with EvaluationStore(tmp_path / "b.sqlite") as fresh:
        import_dataset(tmp_path / "d.jsonl.gz", fresh)
        answer, cached = fresh.evaluate_cached(evaluator, TINY)
    assert cached and answer.metrics == trained.metrics


@pytest.mark.parametrize("line,message", [
    ("not json", "not JSON"),
    ("[1, 2]", "must be a JSON object"),
    (json.dumps({"genome": "x"}), "missing field"),
    (json.dumps({"genome_hash": "h", "genome": "g", "evaluator": "e", "fidelity": "f", "config_hash": "c", "seed": 0,
                 "status": "great", "metrics": {}}), "status='great'"),
    (json.dumps({"genome_hash": "h", "genome": "g", "evaluator": "e", "fidelity": "f", "config_hash": "c", "seed": 0,
                 "status": "ok", "metrics": {}, "colour": "red"}), "unknown field"),
])
def test_a_bad_line_is_refused_naming_the_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("\n" + line + "\n")
    with pytest.raises(ValueError, match=message) as err:
        list(read_dataset(path))
    assert f"{path}:2" in str(err.value)


def test_a_file_that_is_not_gzip_is_refused(tmp_path):
    path = tmp_path / "plain.jsonl.gz"
    path.write_text("{}\n")
    with pytest.raises(ValueError, match="not a readable gzip dataset"):
        list(read_dataset(path))
    with pytest.raises(ValueError, match="no shipped dataset 'nope'"):
        shipped_dataset("nope")


def test_shipped_datasets_keep_the_fidelities_keys():
    """A shipped result answers only under its fidelity's current config hash."""
    for path in shipped_datasets():
        for result in read_dataset(path):
            assert result.config_hash == make_evaluator(result.fidelity).config_hash(), (path.name, result.fidelity)
            assert result.genome_hash == Genome.from_string(result.genome).canonical_hash()


def test_proxy_fidelity_report_regenerates_from_a_dataset_without_training(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import proxy_fidelity

    genomes = proxy_fidelity.genome_set(4)
    quality = {"zero-cost": [0.4, 0.1, 0.3, 0.2], "mad-lite-short": [0.2, 0.3, 0.1, 0.4],
               "mad-lite": [0.5, 0.7, 0.6, 0.9], "mad-lite-long": [0.6, 0.8, 0.7, 0.95]}
    path = tmp_path / "study.jsonl.gz"
    write_dataset(path, [_result(g, f, q[i]) for f, q in quality.items() for i, g in enumerate(genomes)])

    def no_training(self, genome, seed=0):
        raise AssertionError("the report trained")

    monkeypatch.setattr(Evaluator, "evaluate", no_training)
    monkeypatch.setattr(sys, "argv", ["proxy_fidelity.py", "--genomes", "4", "--report-only", "--dataset", str(path)])
    proxy_fidelity.main()
    out = capsys.readouterr().out
    assert "16 evaluations from" in out
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| mad-lite")}
    assert "| 4/4 | 4 | 1.00 | 1.00 [1.00, 1.00] |" in rows["mad-lite"], "mad-lite ranks the four exactly as the long budget"
    assert "(reference)" in rows["mad-lite-long"]
    assert "| transformer++ | 0.400; 0.20 | 0.200; 0.10 | 0.500; 0.25 | 0.600; 0.30 |" in out
