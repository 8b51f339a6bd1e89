"""The search loop: every method runs end to end within its budget, reproducibly; configs are checked."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from livgym.cli import main
from livgym.controllers.budget import SearchTracker
from livgym.controllers.config import SearchConfig
from livgym.controllers.methods.contract import SearchContext, SearchMethod, param
from livgym.controllers.methods.registry import METHODS
from livgym.controllers.search import run_search
from livgym.rewards.objectives import ObjectiveSet

# Analytic costs only: microseconds per evaluation, so the tests time the search, not a proxy.
# One pass over each rollout (SB3's default is ten): the tests check the search, not how well
# the policy learns, and an LSTM's ten passes cost recurrent_ppo's run tens of seconds.
TINY = {"space": {"max_depth": 5, "fidelity": "analytic"},
        "env": {"max_edits": 4, "objectives": ["params", "cache_bytes"]},
        "methods": {"maskable_ppo": {"n_steps": 16, "batch_size": 16, "n_epochs": 1},
                    "ppo": {"n_steps": 16, "batch_size": 16, "n_epochs": 1}, "a2c": {"n_steps": 4},
                    "recurrent_ppo": {"n_steps": 16, "batch_size": 16, "n_epochs": 1},
                    "evolution": {"population": 4, "sample": 2}, "nsga2": {"population": 6}}}


def genomes(out: Path) -> list[str]:
    with (out / "evaluations.csv").open() as handle:
        return [row["genome"] for row in csv.DictReader(handle)]


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_runs_end_to_end_within_its_budget(method, tmp_path):
    # The RL methods search model-based: the first 10 designs sampled, then a round of proposals
    # from 16 episodes on the surrogate (128 by default; how many changes no step of the run).
    config = SearchConfig(name="tiny", method=method, budget=12, surrogate={"episodes": 16}, **TINY)
    result = run_search(config, tmp_path / "run", store=tmp_path / "store.sqlite")
    assert result.tracker.used == 12, "the budget counts unique evaluations exactly"
    out = tmp_path / "run"
    for name in ("config.yaml", "run.yaml", "evaluations.csv", "pareto.csv", "archive.json", "summary.md",
                 "best/designs.csv"):
        assert (out / name).exists(), name
    assert len(genomes(out)) == 12 and len(set(genomes(out))) == 12
    assert list((out / "best").glob("*.json")), "the best designs are saved as genome JSON"
    assert "build_model(Genome.from_json(open(" in (out / "summary.md").read_text()
    assert (out / "controller.zip").exists() == (method in ("maskable_ppo", "ppo", "a2c", "recurrent_ppo"))
    assert SearchConfig.from_yaml(out / "config.yaml").method == method  # the saved config re-runs


@pytest.mark.parametrize("method", ["random", "evolution", "nsga2", "maskable_ppo"])
def test_same_seed_same_designs(method, tmp_path):
    # plain methods (model-based RL at budget 10 would only sample; tests/test_model_based.py covers it)
    config = SearchConfig(name="tiny", method=method, budget=10, seed=3, surrogate={"enabled": False}, **TINY)
    first = run_search(config, tmp_path / "a", store=tmp_path / "a.sqlite")
    second = run_search(config, tmp_path / "b", store=tmp_path / "b.sqlite")
    assert genomes(tmp_path / "a") == genomes(tmp_path / "b")
    assert [r.reward for r in first.tracker.records] == [r.reward for r in second.tracker.records]
    other = run_search(config.with_overrides(seed=4), None, store=tmp_path / "c.sqlite")
    assert [r.genome for r in other.tracker.records] != genomes(tmp_path / "a")


def test_rl_controllers_roll_out_several_envs_on_one_budget(tmp_path):
    methods = {**TINY["methods"], "maskable_ppo": {"n_steps": 8, "batch_size": 16, "n_envs": 2, "n_epochs": 1}}
    # model-based: 10 designs sampled, then a round whose 16 episodes (128 by default) the two envs share
    config = SearchConfig(name="tiny", method="maskable_ppo", budget=12, surrogate={"episodes": 16},
                          **{**TINY, "methods": methods})
    result = run_search(config, None, store=tmp_path / "s.sqlite")
    assert result.tracker.used == 12
    again = run_search(config, None, store=tmp_path / "t.sqlite")
    assert [r.genome for r in again.tracker.records] == [r.genome for r in result.tracker.records]


def test_revisits_are_free_and_counted():
    tracker = SearchTracker(ObjectiveSet.from_names(["params"]), budget=2)
    info = {"genome_hash": "h1", "genome": "91111@w64h4", "status": "ok", "cache_hit": False,
            "metrics": {"params": 1e5}, "utilities": [0.6]}
    tracker(info, 0.6)
    tracker(info, 0.6)
    assert tracker.used == 1 and tracker.revisits == 1 and not tracker.exhausted
    tracker({**info, "genome_hash": "h2", "status": "failed", "metrics": {}, "utilities": [float("nan")]}, -1.0)
    assert tracker.exhausted and len(tracker.archive) == 1, "a failed design is counted but not archived"


def test_bad_config_keys_and_values_are_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("method: evolution\nmethods:\n  evolution: {populaton: 10}\n")
    with pytest.raises(ValueError, match=r"methods.evolution: unknown key\(s\) \['populaton'\]"):
        SearchConfig.from_yaml(path)
    for text, match in [("budgte: 5\n", r"unknown key\(s\) \['budgte'\]"),
                        ("method: reinforce\n", "method='reinforce'"),
                        ("budget: 0\n", "budget=0"),
                        ("space: {max_dept: 4}\n", r"space: unknown key\(s\) \['max_dept'\]"),
                        ("env: {objectives: [quality, size]}\n", "unknown objective"),
                        ("- a list\n", "expected a mapping")]:
        path.write_text(text)
        with pytest.raises(ValueError, match=match):
            config = SearchConfig.from_yaml(path)
            run_search(config, None, store=tmp_path / "s.sqlite")
    with pytest.raises(ValueError, match="cannot be read"):
        SearchConfig.from_yaml(tmp_path / "missing.yaml")


def test_cli_search_writes_a_run_folder_and_rejects_bad_configs(tmp_path, capsys):
    import yaml

    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY, "method": "random"}))
    out = tmp_path / "run"
    assert main(["search", str(config), "--budget", "6", "--seed", "1", "--out", str(out),
                 "--store", str(tmp_path / "s.sqlite"), "--wandb", "disabled"]) == 0
    printed = capsys.readouterr().out
    assert "## Pareto front" in printed and len(genomes(out)) == 6
    config.write_text("methods: {evolution: {size: 3}}\n")
    assert main(["search", str(config), "--out", str(out)]) == 2
    assert "size" in capsys.readouterr().err


def test_compare_runs_every_method_at_equal_budgets_and_seeds(tmp_path, capsys):
    import yaml

    from livgym.controllers.compare import run_compare

    config = SearchConfig(name="tiny", **TINY)
    comparison = run_compare(config, ["random", "evolution"], [0, 1], 8, tmp_path / "cmp",
                             store=tmp_path / "s.sqlite")
    for method in ("random", "evolution"):
        best = comparison.curves[method]["best_reward"]
        assert best.shape == (2, 8) and np.all(np.diff(best, axis=1) >= 0), "best so far never falls"
        assert (tmp_path / "cmp" / method / "seed1" / "evaluations.csv").exists()
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 0
    table = (tmp_path / "cmp" / "compare.md").read_text()
    assert "| random |" in table and "best reward @ 8" in table
    assert "- random vs evolution: best reward p = " in table
    mean, std, half = comparison.summary(8)["random"]["best_reward"]
    assert mean == pytest.approx(comparison.curves["random"]["best_reward"][:, -1].mean())

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    assert main(["compare", str(path), "--methods", "random,nsga2", "--seeds", "2", "--budget", "6",
                 "--out", str(tmp_path / "cli"), "--store", str(tmp_path / "s.sqlite"), "--wandb", "disabled"]) == 0
    assert "| nsga2 |" in capsys.readouterr().out
    assert main(["compare", str(path), "--methods", "random,simulated_annealing", "--out", str(tmp_path / "x")]) == 2


@pytest.mark.parametrize("method, surrogate", [
    ("evolution", {}), ("maskable_ppo", {"enabled": False}),
    ("maskable_ppo", {"n_initial": 2, "batch": 2, "episodes": 8}),  # model-based: interrupted in round 2
], ids=["evolution", "maskable_ppo", "model-based maskable_ppo"])
def test_an_interrupted_run_resumes_without_re_evaluating(method, surrogate, tmp_path):
    from livgym.controllers.search import resume_search

    config = SearchConfig(name="tiny", method=method, budget=10, seed=2, surrogate=surrogate, **TINY)
    store, run_dir = tmp_path / "s.sqlite", tmp_path / "run"

    def interrupt_after_five(tracker):
        if tracker.used == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_search(config, run_dir, store=store, progress=interrupt_after_five)
    assert len(genomes(run_dir)) == 5, "Ctrl-C writes what was evaluated"
    assert (run_dir / "controller.zip").exists() == (method == "maskable_ppo")

    resumed = resume_search(run_dir)  # the store recorded in the run folder
    assert resumed.replayed == 5 and resumed.tracker.used == 10
    assert [r.from_store for r in resumed.tracker.records[:5]] == [True] * 5, "nothing evaluated twice"
    straight = run_search(config, None, store=tmp_path / "other.sqlite")
    assert genomes(run_dir) == [r.genome for r in straight.tracker.records], "as if never interrupted"
    with pytest.raises(ValueError, match="no config.yaml"):
        resume_search(tmp_path)


@pytest.mark.parametrize("method", ["random", "maskable_ppo"])
def test_a_search_that_only_revisits_stops_early(method, tmp_path):
    # One slot of SA-1 or SwiGLU, with expansion steps: far fewer designs than the budget.
    config = SearchConfig(name="tiny", method=method, budget=500, patience=30,
                          space={"max_depth": 1, "fidelity": "analytic", "classes": [1, 9]},
                          env={"max_edits": 2, "objectives": ["params", "cache_bytes"]},
                          methods={"maskable_ppo": {"n_steps": 16, "batch_size": 16, "n_epochs": 1}})
    result = run_search(config, tmp_path / "run", store=tmp_path / "s.sqlite")
    assert result.tracker.stalled and result.tracker.used < 500
    assert "Stopped early" in (tmp_path / "run" / "summary.md").read_text()


def test_stalled_counts_revisits_since_the_last_new_design():
    tracker = SearchTracker(ObjectiveSet.from_names(["params"]), budget=10, patience=2)
    info = {"genome_hash": "h1", "genome": "91111@w64h4", "status": "ok", "cache_hit": False,
            "metrics": {"params": 1e5}, "utilities": [0.6]}
    tracker(info, 0.6)
    tracker(info, 0.6)
    assert not tracker.stalled and not tracker.last_was_new
    tracker({**info, "genome_hash": "h2"}, 0.6)
    tracker(info, 0.6)
    assert not tracker.stalled, "a new design resets the count"
    tracker(info, 0.6)
    assert tracker.stalled and tracker.done and not tracker.exhausted


def test_revisit_penalty_lowers_only_the_reward_of_designs_evaluated_before(tmp_path):
    from livgym.controllers.methods.rl import RevisitPenalty

    design_env = SearchConfig(name="tiny", budget=50, **TINY).make_env(tmp_path / "s.sqlite")
    tracker = SearchTracker(design_env.objectives, 50)
    design_env.add_evaluation_callback(tracker)
    env = RevisitPenalty(design_env, tracker, 0.3)
    env.reset(seed=0)
    first = env.step(0)[1]
    env.reset()
    again = env.step(0)[1]
    assert again == pytest.approx(first - 0.3) and tracker.used == 1 and tracker.revisits == 1
    assert tracker.records[0].reward == pytest.approx(first), "the tracker keeps the design's true reward"


@dataclass(frozen=True)
class StopEarlyParams:
    edits: int = param(1, "random allowed edits before stop", minimum=0)


def stop_early(context: SearchContext, params: StopEarlyParams) -> None:
    """A toy method: from the build start, `edits` random allowed edits, then stop."""
    from livgym.controllers.methods.walks import random_edit

    env, rng = context.env, np.random.default_rng(context.seed)
    env.reset(seed=context.seed)
    while not context.tracker.done:
        env.reset()
        ended = False
        for _ in range(params.edits):
            action = random_edit(env, rng)
            if action is None:
                break
            ended = env.step(action)[2]
            if ended:
                break
        if not ended:
            env.step(0)


def test_a_method_registered_in_one_entry_runs_from_a_config(monkeypatch, tmp_path, capsys):
    import yaml

    monkeypatch.setitem(METHODS, "stop_early", SearchMethod("stop_early", StopEarlyParams, stop_early,
                                                            "a few random edits, then stop"))
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump({**TINY, "method": "stop_early", "budget": 8,
                                    "methods": {"stop_early": {"edits": 2}}}))
    config = SearchConfig.from_yaml(path)
    assert config.method_params() == StopEarlyParams(edits=2)
    result = run_search(config, tmp_path / "run", store=tmp_path / "s.sqlite")
    assert result.tracker.used == 8 and len(set(genomes(tmp_path / "run"))) == 8
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["methods"]["stop_early"] == {"edits": 2} and saved["methods"]["evolution"]["population"] == 10
    assert main(["search", str(path), "--budget", "4", "--out", str(tmp_path / "cli"),
                 "--store", str(tmp_path / "s.sqlite"), "--wandb", "disabled"]) == 0
    path.write_text(yaml.safe_dump({**TINY, "method": "stop_early", "methods": {"stop_early": {"edits": -1}}}))
    with pytest.raises(ValueError, match=r"methods\.stop_early\.edits=-1 must be at least 0"):
        SearchConfig.from_yaml(path)


@pytest.mark.parametrize("params, match", [
    ({"evolution": {"population": "ten"}}, r"methods\.evolution\.population='ten' must be an integer"),
    ({"maskable_ppo": {"n_envs": True}}, r"methods\.maskable_ppo\.n_envs=True must be an integer"),
    ({"maskable_ppo": {"learning_rate": "1e-3"}}, r"learning_rate='1e-3' must be a number or null \(YAML reads"),
    ({"random": {"batch": 0}}, r"methods\.random\.batch=0 must be at least 1"),
    ({"nsga2": {"crossover_prob": 1.5}}, r"methods\.nsga2\.crossover_prob=1\.5 must be at most 1\.0"),
    ({"evolution": {"population": 2, "sample": 3}}, r"methods\.evolution: sample=3 must be at most population=2"),
    ({"a2c": {"batch_size": 8}}, r"methods\.a2c: unknown key\(s\) \['batch_size'\]"),
    ({"maskable_ppo": [16]}, r"methods\.maskable_ppo: expected a mapping"),
    ({"reinforce": {}}, r"methods: unknown key\(s\) \['reinforce'\]"),
])
def test_method_parameters_are_checked_by_name(params, match):
    with pytest.raises(ValueError, match=match):
        SearchConfig(name="bad", methods=params)


def test_every_registered_method_declares_defaults_and_help():
    for name, method in METHODS.items():
        assert method.name == name and method.summary
        assert method.parse({}) == method.defaults()
        assert all(method.help().values()), f"{name}: every parameter has a one-line help"
    # SB3 gets exactly what the config sets; the rest stays SB3's own default
    assert METHODS["maskable_ppo"].defaults().sb3_kwargs() == {
        "n_steps": 16, "batch_size": 16, "learning_rate": 1e-3, "ent_coef": 0.01, "gamma": 1.0}
    assert "batch_size" not in METHODS["a2c"].help()


def test_run_outputs_say_what_they_hold(tmp_path):
    import json

    from livgym.rewards.pareto import ParetoArchive

    config = SearchConfig(name="tiny", method="random", budget=12, seed=1, **TINY)
    result = run_search(config, tmp_path / "run", store=tmp_path / "s.sqlite")
    out, tracker = tmp_path / "run", result.tracker
    with (out / "pareto.csv").open() as handle:
        front = list(csv.DictReader(handle))
    assert {row["genome_hash"] for row in front} == {e.key for e in tracker.archive.front()}, "the front, only"
    assert len(front) == len(tracker.archive.front()) < len(tracker.archive)
    assert {"genome", "reward", "params", "utility_params", "cache_bytes"} <= set(front[0])
    assert len(ParetoArchive.from_json(out / "archive.json")) == len(tracker.archive)
    with (out / "best" / "designs.csv").open() as handle:
        best = list(csv.DictReader(handle))
    assert [float(row["reward"]) for row in best] == [r.reward for r in tracker.best(5)]
    assert float(best[0]["params"]) == tracker.best(1)[0].metrics["params"]
    files = sorted((out / "best").glob("*.json"))
    assert [row["file"] for row in best] == [str(f.relative_to(out)) for f in files]
    # the summary's snippet builds the best design as written, from its genome JSON file
    summary_text = (out / "summary.md").read_text()
    snippet = summary_text.split("```python\n")[1].split("```")[0]
    scope: dict = {}
    exec(snippet, scope)
    assert scope["model"].genome.canonical_hash() == tracker.best(1)[0].genome_hash
    assert "`pareto.csv` (the Pareto front)" in summary_text and "best/designs.csv" in summary_text
    assert json.loads(files[0].read_text())["slots"], "best/*.json stay plain genome JSON"


def interrupt_after(n: int):
    def hook(tracker):
        if tracker.used == n:
            raise KeyboardInterrupt
    return hook


def test_resume_keeps_the_run_s_own_store_wandb_mode_and_plots(tmp_path, monkeypatch, capsys):
    import yaml

    monkeypatch.chdir(tmp_path)  # an offline W&B run would land here or in the run folder
    config = SearchConfig(name="tiny", method="random", budget=8, seed=2, **TINY)
    run_dir, store = tmp_path / "run", tmp_path / "s.sqlite"
    with pytest.raises(KeyboardInterrupt):
        run_search(config, run_dir, store=store, progress=interrupt_after(3), wandb="disabled", plots=False)
    recorded = yaml.safe_load((run_dir / "run.yaml").read_text())
    assert recorded["wandb"] == "disabled" and recorded["store"] == str(store) and not recorded["finished"]
    assert main(["search", "--resume", str(run_dir)]) == 0  # no --wandb, --store: the run's own
    assert "replayed 3 earlier evaluations" in capsys.readouterr().out
    assert not (run_dir / "wandb").exists() and not (tmp_path / "wandb").exists(), "W&B stays disabled"
    assert not (run_dir / "pareto.png").exists(), "a run without plots resumes without plots"
    assert len(genomes(run_dir)) == 8
    recorded = yaml.safe_load((run_dir / "run.yaml").read_text())
    assert recorded["finished"] and recorded["evaluations"] == 8 and recorded["budget"] == 8


@pytest.mark.parametrize("method", ["evolution", "maskable_ppo"])
def test_a_finished_run_extends_to_a_larger_budget_by_replay(method, tmp_path):
    from livgym.controllers.search import resume_search

    config = SearchConfig(name="tiny", method=method, budget=6, seed=2, surrogate={"enabled": False}, **TINY)
    run_dir, store = tmp_path / "run", tmp_path / "s.sqlite"
    run_search(config, run_dir, store=store)
    extended = resume_search(run_dir, budget=10)
    assert extended.replayed == 6 and extended.tracker.used == 10
    assert all(r.from_store for r in extended.tracker.records[:6]), "the first six come from the store"
    assert SearchConfig.from_yaml(run_dir / "config.yaml").budget == 10
    straight = run_search(config.with_overrides(budget=10), None, store=tmp_path / "other.sqlite")
    assert genomes(run_dir) == [r.genome for r in straight.tracker.records], "as if run to 10 at once"
    with pytest.raises(ValueError, match=r"finished: 10 of 10 unique evaluations; give a larger budget"):
        resume_search(run_dir)
    with pytest.raises(ValueError, match=r"finished"):
        resume_search(run_dir, budget=8)


def test_resuming_a_finished_run_says_so_and_does_nothing(tmp_path, capsys):
    config = SearchConfig(name="tiny", method="random", budget=5, **TINY)
    run_dir = tmp_path / "run"
    run_search(config, run_dir, store=tmp_path / "s.sqlite")
    before = (run_dir / "evaluations.csv").stat().st_mtime_ns
    assert main(["search", "--resume", str(run_dir)]) == 0
    printed = capsys.readouterr().out
    assert "is finished: 5 of 5 unique evaluations; give a larger budget (--budget N)" in printed
    assert (run_dir / "evaluations.csv").stat().st_mtime_ns == before, "nothing replayed or rewritten"
    (run_dir / "front" / "99-gone.png").write_bytes(b"")
    assert main(["search", "--resume", str(run_dir), "--budget", "7", "--wandb", "disabled"]) == 0
    assert "replayed 5 earlier evaluations from the store, then continued to 7" in capsys.readouterr().out
    assert len(genomes(run_dir)) == 7
    assert not (run_dir / "front" / "99-gone.png").exists(), "the front's diagrams are the new front's"
    assert main(["search", "--resume", str(run_dir), "--seed", "3"]) == 2
    assert "drop CONFIG, --method, --seed, --space and --out" in capsys.readouterr().err


def test_a_run_that_stopped_early_is_finished_whatever_the_budget(tmp_path, capsys):
    config = SearchConfig(name="tiny", method="random", budget=500, patience=30,
                          space={"max_depth": 1, "fidelity": "analytic", "classes": [1, 9]},
                          env={"max_edits": 2, "objectives": ["params", "cache_bytes"]})
    run_dir = tmp_path / "run"
    assert run_search(config, run_dir, store=tmp_path / "s.sqlite").tracker.stalled
    assert main(["search", "--resume", str(run_dir), "--budget", "900"]) == 0
    assert "stopped early" in capsys.readouterr().out


def test_progress_lines_when_not_a_terminal_and_a_bar_on_one(tmp_path):
    import io

    from livgym.controllers.reporting.progress import ProgressBar

    config = SearchConfig(name="tiny", method="random", budget=12, **TINY)
    log = io.StringIO()
    with ProgressBar(log, every=5, terminal=False) as progress:
        run_search(config, None, store=tmp_path / "s.sqlite", progress=progress)
    lines = log.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["5/12", "10/12", "12/12"], lines
    assert all("revisits" in line and "best reward" in line and "eta" in line for line in lines)
    assert "\r" not in log.getvalue()
    quiet = io.StringIO()
    with ProgressBar(quiet, every=0, terminal=False) as progress:
        run_search(config, None, store=tmp_path / "s.sqlite", progress=progress)
    assert quiet.getvalue() == ""
    screen = io.StringIO()
    with ProgressBar(screen, terminal=True) as progress:
        run_search(config, None, store=tmp_path / "s.sqlite", progress=progress)
    last = screen.getvalue().split("\r")[-1]
    assert "12/12" in last and "revisits" in last and "best reward" in last, last
    with pytest.raises(ValueError, match="every=-1"):
        ProgressBar(every=-1)
