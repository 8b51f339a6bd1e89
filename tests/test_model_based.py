"""Model-based search: only each round's best proposals are evaluated for real, every method can
propose, runs are deterministic, and bad settings are named."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from livgym.controllers.budget import SearchTracker
from livgym.controllers.config import SearchConfig
from livgym.controllers.methods.contract import SearchContext
from livgym.controllers.methods.registry import get_method
from livgym.controllers.methods.model_based import SurrogateSettings, enumerated_ceiling, model_based, parse_settings
from livgym.controllers.methods.model_based_loop import ModelBasedLoop
from livgym.controllers.search import run_search
from livgym.envs import DesignEnv, TableSearchSpace

FAST = {"n_initial": 4, "batch": 2, "episodes": 8}


@pytest.fixture(autouse=True)
def one_thread():
    """As `run_search` runs: the policy is small, and threads only contend on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def landscape(seed: int = 0) -> dict[tuple[int, ...], dict[str, float]]:
    """4 positions x 4 choices: additive with one interaction, seeded."""
    rng = np.random.default_rng(seed)
    w, pair = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    return {d: {"quality": float(sum(w[i, c] for i, c in enumerate(d)) + pair[d[0], d[1]])}
            for d in itertools.product(range(4), repeat=4)}


def context(budget: int = 16, seed: int = 0) -> SearchContext:
    table = landscape()
    values = [m["quality"] for m in table.values()]
    env = DesignEnv(TableSearchSpace(table, (4,) * 4), objectives=("quality",), max_edits=4,
                    objective_overrides={"quality": {"ideal": max(values), "nadir": min(values)}})
    tracker = SearchTracker(env.objectives, budget, patience=200)
    env.add_evaluation_callback(tracker)
    return SearchContext(env, lambda: env, tracker, seed)


def designs(ctx: SearchContext) -> list[str]:
    return [r.genome for r in ctx.tracker.records]


@pytest.mark.parametrize("name", ["random", "evolution", "nsga2", "a2c"])
def test_every_method_proposes_and_only_real_unique_evaluations_count(name):
    ctx = context(budget=10)  # the first sample of 4, then three rounds of 2 proposals
    calls = []
    ctx.env.add_evaluation_callback(lambda info, reward: calls.append(info["genome_hash"]))
    method = get_method(name)
    model_based(method, SurrogateSettings(**FAST))(ctx, method.defaults())
    assert ctx.tracker.used == 10 and len(set(designs(ctx))) == 10
    assert len(calls) == 10, "the search's env saw only the real evaluations, none of the acquisition episodes"


def test_model_based_maskable_ppo_is_deterministic_and_counts_only_real_evaluations():
    method = get_method("maskable_ppo")
    runs = []
    for _ in range(2):
        ctx = context(budget=10)
        calls = []
        ctx.env.add_evaluation_callback(lambda info, reward: calls.append(info["genome_hash"]))
        # one pass over each rollout (SB3's default: ten): what is checked is the run, not learning
        model_based(method, SurrogateSettings(**FAST))(ctx, method.parse({"n_epochs": 1}))
        assert ctx.tracker.used == len(calls) == 10
        runs.append(designs(ctx))
    assert runs[0] == runs[1], "same seed, same designs"


def test_a_resumed_run_evaluates_its_record_first_even_where_its_own_choices_differ():
    """As a run resumed on another machine, whose floating point steers the policy elsewhere:
    another seed's designs stand for the record, and none of its real evaluations is wasted."""
    method, params = get_method("maskable_ppo"), get_method("maskable_ppo").parse({"n_epochs": 1})
    other = context(budget=10, seed=1)
    model_based(method, SurrogateSettings(**FAST))(other, params)
    record = designs(other)[:8]  # the initial round of 4, then two rounds of 2
    own = context(budget=10)
    model_based(method, SurrogateSettings(**FAST))(own, params)
    assert designs(own)[:8] != record, "seed 0 would choose other designs"
    ctx = dataclasses.replace(context(budget=10), replay=tuple(record))
    model_based(method, SurrogateSettings(**FAST))(ctx, params)
    assert designs(ctx)[:8] == record, "the record's designs, in its order"
    assert ctx.tracker.used == 10 and len(set(designs(ctx))) == 10, "then its own, all new"


def test_the_first_round_samples_the_space_and_rounds_evaluate_a_batch_together():
    ctx = context(budget=10)
    batches = []
    loop = ModelBasedLoop(ctx, SurrogateSettings(**FAST))
    real = loop.send_for_real
    loop.send_for_real = lambda d: (batches.append(len(d)), real(d))
    loop.run(get_method("evolution"), get_method("evolution").defaults())
    assert batches == [4, 2, 2, 2] and ctx.tracker.used == 10
    assert loop.predicted == ("quality",)
    assert all(r.evaluations == 4 + 2 * (i + 1) for i, r in enumerate(loop.rounds))


def test_with_lag_a_round_is_queued_behind_the_last_and_proposed_without_its_results():
    ctx = context(budget=10)
    sends = []  # (results learned from, designs sent) at each send
    loop = ModelBasedLoop(ctx, SurrogateSettings(**FAST, lag=1))
    real = loop.send_for_real
    loop.send_for_real = lambda d: (sends.append((len(loop.X), len(d))), real(d))
    loop.run(get_method("evolution"), get_method("evolution").defaults())
    # the first sample; round 1 from it; round 2 from it too (round 1 still queued); round 3
    # from rounds 0-1 (round 2 still queued); then the budget is all sent and learned
    assert sends == [(0, 4), (4, 2), (4, 2), (6, 2)]
    assert ctx.tracker.used == len(loop.X) == 10 and len(set(designs(ctx))) == 10 and not loop.queued


@pytest.mark.parametrize("lag", [0, 1])
def test_model_based_maskable_ppo_with_lag_is_deterministic_and_spends_the_budget_exactly(lag):
    method, params = get_method("maskable_ppo"), get_method("maskable_ppo").parse({"n_epochs": 1})
    runs = []
    for _ in range(2):
        ctx = context(budget=11)  # 4 sampled, then rounds of 2: the last round is cut to 1
        model_based(method, SurrogateSettings(**FAST, lag=lag))(ctx, params)
        assert ctx.tracker.used == 11 and len(set(designs(ctx))) == 11
        runs.append(designs(ctx))
    assert runs[0] == runs[1], "same seed, same designs"


def test_the_enumerated_ceiling_finds_the_optimum_of_a_small_table():
    ctx = context(budget=30)
    enumerated_ceiling(ctx, SurrogateSettings(**FAST))
    assert ctx.tracker.best_reward == pytest.approx(1.0)


def test_a_space_smaller_than_the_budget_stops_as_stalled():
    table = {(a,): {"quality": float(a)} for a in range(3)}
    env = DesignEnv(TableSearchSpace(table, (3,)), objectives=("quality",), max_edits=1,
                    objective_overrides={"quality": {"ideal": 2.0, "nadir": 0.0}})
    tracker = SearchTracker(env.objectives, 10, patience=50)
    env.add_evaluation_callback(tracker)
    method = get_method("random")
    model_based(method, SurrogateSettings(**FAST))(SearchContext(env, lambda: env, tracker, 0), method.defaults())
    assert tracker.used == 3 and tracker.stalled


def test_settings_are_checked_by_name():
    assert parse_settings({}).applies_to("maskable_ppo") and not parse_settings({}).applies_to("evolution")
    assert parse_settings({"enabled": True}).applies_to("evolution")
    for given, match in [({"batchh": 2}, r"surrogate: unknown key\(s\) \['batchh'\]"),
                         ({"batch": 0}, r"surrogate.batch=0 must be at least 1"),
                         ({"model": "svm"}, "model='svm' is not one of"),
                         ({"acquisition": "ei"}, "acquisition='ei'"),
                         ({"pool": "all"}, "pool='all'")]:
        with pytest.raises(ValueError, match=match):
            parse_settings(given)
    with pytest.raises(ValueError, match=r"config 'x': surrogate.kappa=-1"):
        SearchConfig(name="x", surrogate={"kappa": -1})


def test_a_model_based_search_on_livbench_writes_its_rounds(tmp_path):
    import json

    config = SearchConfig.from_yaml("runs/livbench.yaml").with_overrides(
        budget=12, surrogate=FAST,
        methods={"maskable_ppo": {"n_envs": 2, "n_steps": 8, "batch_size": 16, "n_epochs": 1}})
    assert config.model_based()
    result = run_search(config, tmp_path / "run", plots=False)
    assert result.tracker.used == 12
    report = json.loads((tmp_path / "run" / "model_based.json").read_text())
    assert report["predicted"] == ["quality"] and report["evaluations"] == 12
    assert [r["evaluations"] for r in report["rounds"]] == [6, 8, 10, 12]
    assert report["controller_seconds"] >= 0 and "model_based.json" in (tmp_path / "run" / "summary.md").read_text()


def test_the_command_line_flag_sets_the_config_s_surrogate():
    from livgym.commands.common import with_surrogate

    config = SearchConfig(name="x", surrogate={"batch": 2})
    assert with_surrogate(config, None) is config and config.model_based()
    assert not with_surrogate(config, "off").model_based() and with_surrogate(config, "off").surrogate["batch"] == 2
    assert with_surrogate(config.with_overrides(method="evolution"), "on").model_based()
    assert not with_surrogate(config.with_overrides(method="evolution"), "auto").model_based()


def test_the_docs_list_the_settings_and_their_defaults():
    from dataclasses import asdict
    from pathlib import Path

    import yaml

    page = (Path(__file__).resolve().parents[1] / "docs" / "search.md").read_text()
    block = page.split("```yaml\nsurrogate:", 1)[1].split("```", 1)[0]
    assert yaml.safe_load("surrogate:" + block)["surrogate"] == asdict(SurrogateSettings())
