"""The STAR-search benchmark's report, from data alone: which found designs it confirms, the answer
it states against Transformer++ and the striped hybrid, and the design files it exports, each of
which must build into a model that decodes exactly as it runs in parallel.

The data here are made up (the searches themselves take hours; `benchmarks/star_search.py`), so
the test pins the report's logic, not any finding."""

from __future__ import annotations

import contextlib
import csv
import io
import sys
from pathlib import Path

import pytest
import torch

from livgym.models import Genome, build_model, efficiency, reference_genome
from livgym.rewards.evaluation.evaluator import Evaluator, EvaluationResult, make_evaluator
from livgym.rewards.evaluation.dataset import write_dataset

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
REFS = {"transformer++": 0.75, "striped-hybrid": 0.70, "mamba-like": 0.42, "gated-conv": 0.39}  # mad-lite
REFS_LONG = {"transformer++": (0.94, 0.93, 0.94), "striped-hybrid": (0.90, 0.91, 0.89),
             "mamba-like": (0.60, 0.62, 0.61), "gated-conv": (0.50, 0.52, 0.49)}
STRIPED_6 = "51111-91111-11111-91111-51111-91111@w64h4"  # half the striped hybrid's cache
CONV_ATTN = "71111-91111-11111-91111@w64h4"
MAMBA_4 = "51111-91111-51111-91111@w64h4"
FOUND = {STRIPED_6: (0.80, (0.96, 0.95, 0.97)), CONV_ATTN: (0.60, (0.88, 0.90, 0.86)),
         MAMBA_4: (0.45, (0.55, 0.57, 0.56))}


def _result(text: str, fidelity: str, quality: float, seed: int = 0) -> EvaluationResult:
    genome, evaluator = Genome.from_string(text), make_evaluator(fidelity)
    cache = efficiency(genome, context_length=4096).cache_bytes
    return EvaluationResult(genome_hash=genome.canonical_hash(), genome=genome.to_string(), evaluator=evaluator.name,
                            fidelity=fidelity, config_hash=evaluator.config_hash(), seed=seed, status="ok",
                            metrics={"quality": quality, "cache_bytes": cache}, wall_time=100.0)


def _run_order(path: Path, rows: list[tuple[str, str, float]]) -> None:
    """A run's evaluations.csv, with only the columns the report reads."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "genome", "status", "hypervolume", "quality", "cache_bytes"])
        for i, (text, status, quality) in enumerate(rows):
            cache = efficiency(Genome.from_string(text), context_length=4096).cache_bytes
            writer.writerow([i, text, status, repr(0.1 * (i + 1)), repr(quality) if status == "ok" else "", cache])


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report's printed text and its output folder (run once: it plots and costs every design)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _report(tmp_path_factory.mktemp("star"), monkeypatch)


def _report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import star_search

    refs = {name: reference_genome(name, depth=8, width=64, heads=4).to_string() for name in REFS}
    results = [_result(refs[n], "mad-lite", q) for n, q in REFS.items()]
    results += [_result(refs[n], "mad-lite-long", q, s) for n, qs in REFS_LONG.items() for s, q in enumerate(qs)]
    results += [_result(g, "mad-lite", q) for g, (q, _) in FOUND.items()]
    results += [_result(g, "mad-lite-long", q, s) for g, (_, qs) in FOUND.items() for s, q in enumerate(qs)]
    dataset = tmp_path / "star.jsonl.gz"
    write_dataset(dataset, results)
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    _run_order(shipped / "maskable_ppo.csv", [(STRIPED_6, "ok", 0.80), (CONV_ATTN, "ok", 0.60)])
    _run_order(shipped / "evolution.csv", [(MAMBA_4, "ok", 0.45), (CONV_ATTN, "timeout", 0.0)])
    _run_order(shipped / "nsga2.csv", [(CONV_ATTN, "ok", 0.60)])

    def no_training(self, genome, seed=0):
        raise AssertionError("the report trained")

    monkeypatch.setattr(Evaluator, "evaluate", no_training)
    monkeypatch.setattr(star_search, "proxy_dataset", lambda: tmp_path / "absent.jsonl.gz")  # hermetic
    monkeypatch.setattr(sys, "argv", ["star_search.py", "--report-only", "--shipped", str(shipped),
                                      "--dataset", str(dataset)])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        star_search.main()
    return out.getvalue(), shipped


def test_the_report_states_the_answer_against_both_references(report):
    out, shipped = report
    assert "| model-based MaskablePPO | 2 | - | - | - | 0.800 | 2 | 0 |" in out
    assert "| regularized evolution | 2 | - | - | - | 0.450 | 1 | 1 |" in out, "the timeout counts as not ok"
    striped_cache = efficiency(Genome.from_string(STRIPED_6).with_width(768, 12), context_length=4096).cache_bytes
    hybrid_cache = efficiency(reference_genome("striped-hybrid", depth=8, width=768, heads=12),
                              context_length=4096).cache_bytes
    saving = 100 * (1 - striped_cache / hybrid_cache)
    assert f"- Against striped-hybrid (quality 0.900, cache {hybrid_cache / 2**20:.1f} MiB): found 1 dominates it" in out
    assert f"found 1's, {saving:.1f} % smaller" in out
    assert "- Dominating both in the mean: found 1." in out
    assert (shipped / "star_search.png").stat().st_size > 0


def test_every_confirmed_design_is_exported_and_builds_into_a_model_that_decodes(report):
    _, shipped = report
    files = sorted((shipped / "designs").glob("*.json"))
    exported = {Genome.from_json(f.read_text()).to_string() for f in files}
    assert exported == set(FOUND), "the three found front designs, no reference"
    for text in sorted(exported):
        torch.manual_seed(0)
        model = build_model(Genome.from_string(text), 32).eval()
        tokens = torch.randint(0, 32, (2, 12))
        with torch.no_grad():
            parallel = model(tokens)
            cache = model.init_cache(2)
            decoded = torch.stack([model.step(tokens[:, t], cache) for t in range(12)], dim=1)
        torch.testing.assert_close(decoded, parallel, rtol=1e-4, atol=1e-4)


def test_a_replay_to_an_earlier_checkpoint_never_shortens_the_shipped_order(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import star_search

    shipped, run = tmp_path / "shipped.csv", tmp_path / "run.csv"
    _run_order(shipped, [(STRIPED_6, "ok", 0.80), (CONV_ATTN, "ok", 0.60), (MAMBA_4, "ok", 0.45)])
    _run_order(run, [(STRIPED_6, "ok", 0.80)])
    kept = shipped.read_text()
    assert not star_search.ship_order(run, shipped) and shipped.read_text() == kept
    _run_order(run, [(STRIPED_6, "ok", 0.80), (CONV_ATTN, "ok", 0.60), (MAMBA_4, "ok", 0.45), (CONV_ATTN, "ok", 0.6)])
    assert star_search.ship_order(run, shipped) and shipped.read_text() == run.read_text()
    assert star_search.ship_order(run, tmp_path / "new" / "first.csv"), "a first order is shipped as it is"


def test_the_report_says_which_classes_and_sharing_the_union_front_uses(report):
    out, _ = report
    # the made-up runs' three designs are all on the union front: each trades quality for cache
    assert "Union front: 3 designs of 4-6 slots (median 4); 0 share a featurizer, 0 share features." in out
    assert ("Classes, by the slots they fill: GMemless 7 slots in 3 designs, Rec-1 4 slots in 2 designs, "
            "SA-1 2 slots in 2 designs, GConv-1 1 slots in 1 designs.") in out
