"""The designs the STAR search (issue 15) found and confirmed, as shipped in
`benchmarks/results/star_search/designs/`: each file is a genome that builds into a runnable
model, decodes step by step exactly as it runs in parallel, and has its three `mad-lite-long`
seeds in the shipped dataset (so its numbers in `benchmarks/RESULTS.md` regenerate)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from livgym.models import Genome, build_model
from livgym.rewards.evaluation.evaluator import make_evaluator
from livgym.rewards.evaluation.dataset import DATA_DIR, SUFFIX, read_dataset

DESIGNS = sorted((Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "star_search" / "designs")
                 .glob("*.json"))


def test_the_search_ships_its_confirmed_designs():
    assert DESIGNS, "benchmarks/results/star_search/designs/ holds the confirmed designs"


@pytest.mark.parametrize("path", DESIGNS, ids=[p.stem for p in DESIGNS])
def test_a_shipped_design_builds_and_decodes_as_it_runs_in_parallel(path):
    genome = Genome.from_json(path.read_text())
    assert path.stem.endswith(genome.canonical_hash()), "the file is named after its genome"
    torch.manual_seed(0)
    model = build_model(genome, 64).eval()
    tokens = torch.randint(0, 64, (2, 16))
    with torch.no_grad():
        parallel = model(tokens)
        cache = model.init_cache(2)
        decoded = torch.stack([model.step(tokens[:, t], cache) for t in range(16)], dim=1)
    assert parallel.shape == (2, 16, 64) and torch.isfinite(parallel).all()
    torch.testing.assert_close(decoded, parallel, rtol=1e-4, atol=1e-4)


def test_every_shipped_design_has_its_confirmation_in_the_shipped_dataset():
    confirm = make_evaluator("mad-lite-long").config_hash()
    seeds: dict[str, set[int]] = {}
    # the search's dataset, and the fidelity study's (a design both trained is exported once, there)
    for r in (r for name in ("star_search", "proxy_fidelity") for r in read_dataset(DATA_DIR / f"{name}{SUFFIX}")):
        if r.config_hash == confirm and r.status == "ok":
            seeds.setdefault(r.genome_hash, set()).add(r.seed)
    for path in DESIGNS:
        genome = Genome.from_json(path.read_text())
        assert seeds.get(genome.canonical_hash(), set()) >= {0, 1, 2}, f"{path.name}: not confirmed on 3 seeds"
