"""A user's own search space through the whole tool: a table of designs from a CSV file (the seeded
synthetic landscape `runs/landscape.csv` is), named in a config and on the command line, searched
by every method, with every output written; objectives declared against the table's metrics;
and every mistake an error that names it when the env is built."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml

import livgym  # noqa: F401 - registers the env ids
from livgym.cli import main
from livgym.controllers.budget import SearchTracker
from livgym.controllers.config import SearchConfig
from livgym.controllers.methods.registry import METHODS
from livgym.envs.design_env import DEFAULT_MAX_EDITS, DesignEnv
from livgym.envs.build import build_env
from livgym.envs.space_spec import SPACE_ENV_ID, SpaceSpec
from livgym.envs.tables.synthetic import synthetic_csv, synthetic_rows, write_synthetic_csv
from livgym.envs.tables.file import read_table_space
from livgym.envs.tables.space import TableSearchSpace
from livgym.rewards.objectives import declare_objectives

REPO = Path(__file__).resolve().parents[1]
OBJECTIVES = [{"metric": "accuracy", "direction": "max"}, {"metric": "latency_ms", "direction": "min", "scale": "log"}]
BUDGET = 12
# Small enough that every method spends its budget in seconds (model-based RL included).
TINY_METHODS = {"evolution": {"population": 4, "sample": 2}, "nsga2": {"population": 6},
                "optuna": {"n_startup_trials": 4},
                "maskable_ppo": {"n_steps": 8, "batch_size": 8, "n_epochs": 1},
                "ppo": {"n_steps": 8, "batch_size": 8, "n_epochs": 1}, "a2c": {"n_steps": 4},
                "recurrent_ppo": {"n_steps": 8, "batch_size": 8, "n_epochs": 1}}
TINY_SURROGATE = {"n_initial": 4, "batch": 4, "episodes": 8, "fallback_samples": 32}


def genomes(run: Path) -> list[str]:
    with (run / "evaluations.csv").open() as handle:
        return [row["genome"] for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def landscape(tmp_path_factory) -> dict[str, Path]:
    """The example table written by the generator, and configs on it (as runs/landscape.yaml)."""
    folder = tmp_path_factory.mktemp("landscape")
    table = write_synthetic_csv(folder / "designs.csv")
    example = yaml.safe_load((REPO / "runs" / "landscape.yaml").read_text())
    config = {**example, "space": {**example["space"], "from": str(table)}, "budget": BUDGET,
              "methods": TINY_METHODS, "surrogate": TINY_SURROGATE}
    (folder / "landscape.yaml").write_text(yaml.safe_dump(config))
    no_space = {k: v for k, v in config.items() if k != "space"}
    (folder / "no-space.yaml").write_text(yaml.safe_dump(no_space))
    return {"folder": folder, "table": table, "config": folder / "landscape.yaml", "no_space": folder / "no-space.yaml"}


@pytest.fixture(scope="module")
def compared(landscape) -> Path:
    """One `livgym compare` of every registered method on the table (one seed, a tiny budget)."""
    out = landscape["folder"] / "compare"
    assert main(["compare", str(landscape["config"]), "--methods", "all", "--seeds", "1", "--budget", str(BUDGET),
                 "--out", str(out), "--store", str(landscape["folder"] / "s.sqlite"), "--wandb", "disabled"]) == 0
    return out


def test_the_shipped_example_table_is_the_generators_output():
    assert (REPO / "runs" / "landscape.csv").read_text() == synthetic_csv(0)
    assert synthetic_csv(0) == synthetic_csv(0) and synthetic_csv(1) != synthetic_csv(0)
    rows = synthetic_rows(0)
    assert 80 < len(rows) < 108 and sum(not r["accuracy"] for r in rows) == 1, "a few unmeasured, one failed"


def test_the_example_config_runs_from_the_repository(monkeypatch):
    monkeypatch.chdir(REPO)
    config = SearchConfig.from_yaml("runs/landscape.yaml")
    assert config.env_id == SPACE_ENV_ID and config.space["from"] == "runs/landscape.csv"
    env = config.make_env()
    assert env.objectives.names == ("accuracy", "latency_ms") and env.max_edits == DEFAULT_MAX_EDITS
    assert env.space.cheap_metrics(env.space.minimal) == {"params": env.space.table[env.space.minimal]["params"]}


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_searches_the_table_and_writes_every_output(compared, method):
    run = compared / method / "seed0"
    for name in ("config.yaml", "run.yaml", "evaluations.csv", "pareto.csv", "archive.json", "summary.md",
                 "best/designs.csv", "pareto.png", "progress.png"):
        assert (run / name).stat().st_size > 0, name
    designs = genomes(run)
    assert len(designs) == BUDGET == len(set(designs)), "the budget counts unique designs"
    assert all(d.startswith("op=") and "depth=" in d for d in designs), "designs as the space describes them"
    assert not list((run / "best").glob("*.json")) and len(list((run / "best").glob("*.txt"))) == 5
    with (run / "best" / "designs.csv").open() as handle:
        best = list(csv.DictReader(handle))
    assert (run / best[0]["file"]).read_text().strip() == best[0]["genome"]
    summary = (run / "summary.md").read_text()
    assert "space `designs`" in summary and "build_model" not in summary and "best/*.txt" in summary
    assert not (run / "front").exists(), "no LIV block diagrams for a table's designs"
    assert (run / "controller.zip").exists() == (method in ("maskable_ppo", "ppo", "a2c", "recurrent_ppo"))
    assert (run / "model_based.json").exists() == SearchConfig.from_yaml(run / "config.yaml").model_based()


def test_the_compare_report_covers_every_method(compared):
    table = (compared / "compare.md").read_text()
    assert all(f"| {method} |" in table for method in METHODS)
    assert (compared / "compare.png").stat().st_size > 0
    with (compared / "compare.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["method"] for r in rows} == set(METHODS) and len(rows) == BUDGET * len(METHODS)


def test_search_with_space_on_the_command_line_writes_every_output_and_resumes(landscape, capsys):
    out = landscape["folder"] / "search"
    args = ["search", str(landscape["no_space"]), "--space", str(landscape["table"]), "--method", "random",
            "--budget", "8", "--seed", "1", "--out", str(out), "--store", str(landscape["folder"] / "s.sqlite")]
    assert main([*args, "--wandb", "offline"]) == 0
    printed = capsys.readouterr().out
    assert "## Pareto front" in printed and "| design | accuracy | latency_ms |" in printed
    with (out / "pareto.csv").open() as handle:
        front = list(csv.DictReader(handle))
    assert front and {"genome", "reward", "accuracy", "utility_accuracy", "latency_ms", "params"} <= set(front[0])
    assert list((out / "wandb").glob("offline-run-*")), "the W&B run, offline"
    assert SearchConfig.from_yaml(out / "config.yaml").env_id == SPACE_ENV_ID, "the saved config re-runs"
    assert main(["search", "--resume", str(out), "--budget", "10"]) == 0
    assert len(genomes(out)) == 10 and genomes(out)[:8] == genomes(landscape["folder"] / "search")[:8]
    assert main([*args[:2], "--out", str(out / "x")]) == 2, "without a space, the objectives fit no metric"
    assert "accuracy" in capsys.readouterr().err


def test_gym_make_takes_a_space_spec(landscape):
    env = gym.make(SPACE_ENV_ID, space=str(landscape["table"]), objectives=OBJECTIVES)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(0)
    assert terminated and 0.0 <= reward <= 1.0 and set(info["objectives"]) == {"accuracy", "latency_ms"}
    nk = gym.make(SPACE_ENV_ID, space={"from": "nk", "n": 6, "k": 1})
    assert type(nk.unwrapped) is DesignEnv and nk.unwrapped.max_edits == 6, "NK's own defaults"
    factory = build_env(SPACE_ENV_ID, {"from": "livgym.envs.nk:NKLandscapeSpace", "n": 5},
                        {"objectives": [{"metric": "quality", "direction": "max", "ideal": 1.0, "nadir": 0.0}]})
    factory.reset(seed=0)
    assert factory.step(0)[2] and factory.space.landscape.n == 5
    direct = build_env(SPACE_ENV_ID, read_table_space(landscape["table"]), {"objectives": OBJECTIVES, "max_edits": 3})
    assert direct.max_edits == 3
    with pytest.raises(ValueError, match="needs space="):
        gym.make(SPACE_ENV_ID)


def test_a_config_names_a_space_and_its_env_id_follows(landscape):
    assert SearchConfig().env == {} and SearchConfig().env_id == "livgym/Design-v0"
    nk = SearchConfig(method="random", space={"from": "nk", "n": 6})
    assert nk.env_id == "livgym/NK-v0" and nk.space == {"n": 6}
    assert nk.make_env().max_edits == 6, "the env's own default, not the config's"
    table = SearchConfig(method="random", space=str(landscape["table"]), env={"objectives": OBJECTIVES})
    assert table.env_id == SPACE_ENV_ID and table.space == {"from": str(landscape["table"])}
    assert table.with_space("nk").env_id == "livgym/NK-v0"
    again = SearchConfig.from_dict(table.resolved())  # as a run folder's config.yaml re-runs
    assert (again.env_id, again.space) == (table.env_id, table.space)
    with pytest.raises(ValueError, match="env_id='livgym/LIVBench-v0' does not fit space 'nk'"):
        SearchConfig(env_id="livgym/LIVBench-v0", space="nk")
    with pytest.raises(ValueError, match=r"nk: unknown argument\(s\) \['depth'\]"):
        SearchConfig(space={"from": "nk", "depth": 3})
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['chioces'\]"):
        SearchConfig(space={"from": str(landscape["table"]), "chioces": ["a"]})
    with pytest.raises(ValueError, match="needs space to name one"):
        SearchConfig(env_id=SPACE_ENV_ID)


def test_objectives_are_declared_against_the_table_s_metrics(landscape):
    space = read_table_space(landscape["table"])
    env = DesignEnv(space, objectives=[*OBJECTIVES, "params"])
    accuracy, latency, params = env.objectives.objectives
    values = space.metric_values()
    assert (accuracy.ideal, accuracy.nadir) == (np.nanmax(values["accuracy"]), np.nanmin(values["accuracy"]))
    assert (latency.ideal, latency.nadir, latency.floor) == (values["latency_ms"].min(), values["latency_ms"].max(),
                                                              values["latency_ms"].min())
    assert params.nadir == values["params"].max(), "a known objective's range comes from the table too"
    named = DesignEnv(space, objectives=[{"name": "quality", "metric": "accuracy"}])
    assert named.objectives.objectives[0].key == "accuracy" and named.objectives.objectives[0].direction == "max"


@pytest.mark.parametrize("objectives, overrides, match", [
    ([{"metric": "acuracy", "direction": "max"}], None, "needs metric 'acuracy', which the space does not have"),
    (["quality"], None, "needs metric 'quality'"),  # the default objectives fit no column of this table
    ([{"metric": "accuracy", "direction": "max", "ideal": 1.0, "nadir": 0.0}], None,
     r"'accuracy' ranges 66.14..93.62 over the space, beyond its ideal=1 and nadir=0"),
    ([{"metric": "latency_ms", "direction": "min", "scale": "log", "ideal": 1e-5, "nadir": 0.1}], None,
     "beyond its ideal=1e-05 and nadir=0.1"),  # milliseconds against a range in seconds
    ([{"metric": "accuracy"}], None, r"give its direction \(max or min\)"),
    ([{"metric": "accuracy", "direction": "up"}], None, "direction='up' is not one of"),
    ([{"metric": "accuracy", "direction": "max", "weight": 2}], None, r"unknown field\(s\) \['weight'\]"),
    (["accuracy"], None, r"unknown objective\(s\) \['accuracy'\].*\{metric: accuracy, direction: max\}"),
    ([{"metric": "accuracy", "direction": "max"}], {"latency": {"nadir": 1.0}}, r"overrides for objective\(s\)"),
])
def test_objectives_that_do_not_fit_the_table_are_errors_when_the_env_is_built(landscape, objectives, overrides,
                                                                               match):
    with pytest.raises(ValueError, match=match):
        DesignEnv(read_table_space(landscape["table"]), objectives=objectives, objective_overrides=overrides)


def test_a_linear_latency_needs_no_floor_and_a_declared_objective_needs_references_without_a_table():
    linear = declare_objectives(["latency"], {"latency": {"scale": "linear"}}).objectives[0]
    assert linear.scale == "linear" and linear.floor is None
    with pytest.raises(ValueError, match="give its ideal and nadir"):
        declare_objectives([{"metric": "accuracy", "direction": "max"}])
    constant = declare_objectives(["params"], values={"params": np.array([2e4, 2e4])}).objectives[0]
    assert (constant.ideal, constant.nadir) == (1e4, 1e7), "one value: the known objective's own references"


def test_costly_metrics_are_not_cheap_unless_declared(landscape):
    table = {(a,): {"accuracy": 0.5 + 0.1 * a, "params": 1e4 * (a + 1)} for a in range(3)}
    assert TableSearchSpace(table, choices=(3,)).cheap_metrics((1,)) == {}
    assert TableSearchSpace(table, choices=(3,), cheap=["params"]).cheap_metrics((1,)) == {"params": 2e4}
    with pytest.raises(ValueError, match=r"cheap=\['latency'\]"):
        TableSearchSpace(table, choices=(3,), cheap=["latency"])
    shaped = DesignEnv(read_table_space(landscape["table"]), objectives=OBJECTIVES, shaping=1.0)
    shaped.reset(seed=0)
    action = int(np.flatnonzero(shaped.action_masks()[1:])[0]) + 1
    assert shaped.step(action)[1] == 0.0, "no shaping from accuracy or latency before they are evaluated"


def test_the_tracker_follows_the_first_objective_not_a_quality_key():
    objectives = declare_objectives([{"metric": "latency_ms", "direction": "min", "ideal": 1.0, "nadir": 10.0}])
    tracker = SearchTracker(objectives, budget=3)
    for key, latency in (("a", 5.0), ("b", 2.0), ("c", 7.0)):
        tracker({"genome_hash": key, "genome": key, "status": "ok", "cache_hit": True,
                 "metrics": {"latency_ms": latency},
                 "utilities": list(objectives.vector({"latency_ms": latency}))}, 0.0)
    assert tracker.best_first == 2.0 and not hasattr(tracker, "best_quality")


def test_json_tables_read_as_the_csv_does(landscape, tmp_path):
    rows = synthetic_rows(0)
    records = tmp_path / "records.json"
    records.write_text(json.dumps(rows))
    columns = list(rows[0])
    table = tmp_path / "table.json"
    table.write_text(json.dumps({"columns": columns, "rows": [[r[c] for c in columns] for r in rows]}))
    reference = read_table_space(landscape["table"])
    for path in (records, table):
        space = read_table_space(path)
        assert space.table.keys() == reference.table.keys() and space.labels == reference.labels
        assert [space.describe(d) for d in space.designs()] == [reference.describe(d) for d in reference.designs()]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, arguments, match", [
    ("a,b,accuracy\n1,2,0.5\n", {}, r"which columns are the choices\? Give choices"),
    ("choice_a,accuracy\n1,0.5\n", {"choices": ["choice_b"]}, r"choices names column\(s\) \['choice_b'\]"),
    ("choice_a,accuracy\n1,0.5\n1,0.6\n", {}, "rows 1 and 2 are the same design"),
    ("choice_a,accuracy\n1,high\n", {}, "row 1: metric 'accuracy' has 'high', not a number"),
    ("choice_a,accuracy\n1,0.5\n3,0.6\n", {"choices": {"choice_a": [1, 2]}}, r"row 2: column 'choice_a' has '3'"),
    ("choice_a,accuracy\n1,0.5,7\n", {}, "row 1 does not have one cell per column"),
    ("choice_a,accuracy\n", {}, "has no rows"),
    ("choice_a,accuracy\n1,0.5\n", {"cheap": ["accuracy", "params"]}, r"\['params'\] are not metric columns"),
    ("choice_a,accuracy\n1,0.5\n", {"minimal": "a=9"}, "is not in the table"),
])
def test_a_table_that_does_not_read_is_an_error_naming_the_column_or_row(tmp_path, text, arguments, match):
    with pytest.raises(ValueError, match=match):
        read_table_space(_write(tmp_path / "t.csv", text), **arguments)


def test_table_files_and_specs_that_cannot_be_used_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"'t.xlsx' is not .* a table file \(.csv, .json, .parquet\)"):
        SpaceSpec("t.xlsx").kind()
    with pytest.raises(ValueError, match=r"unknown file type '.xlsx'"):
        read_table_space(_write(tmp_path / "t.xlsx", ""))
    with pytest.raises(ValueError, match="no such file"):
        read_table_space(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="expected a list of objects"):
        read_table_space(_write(tmp_path / "t.json", '{"a": 1}'))
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match=r"reading Parquet needs pyarrow.*pip install pyarrow"):
            read_table_space(_write(tmp_path / "t.parquet", ""))
    with pytest.raises(ValueError, match="is not a shipped space"):
        SpaceSpec.parse("landscape")
    with pytest.raises(ValueError, match="cannot import 'no_such_module_xyz'"):
        SpaceSpec.parse("no_such_module_xyz:make").build()
    with pytest.raises(ValueError, match="has no function or class 'nothing'"):
        SpaceSpec.parse("json:nothing").build()
    with pytest.raises(ValueError, match="returned str, not a SearchSpace"):
        SpaceSpec.parse({"from": "json:dumps", "obj": 1}).build()
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['size'\]"):
        SpaceSpec.parse({"from": "livgym.envs.nk:NKLandscapeSpace", "size": 3}).build()


def test_the_space_command_shows_a_table_and_a_config_s_objectives(landscape, tmp_path, capsys):
    assert main(["space", "show", str(landscape["config"])]) == 0
    shown = capsys.readouterr().out
    assert "op: attention, conv3, conv5, mlp" in shown and "params" in shown and "(cheap)" in shown
    assert "accuracy: metric accuracy, max, linear scale, ideal 93.62, nadir 66.14" in shown
    assert main(["space", "example", str(tmp_path / "mine.csv")]) == 0
    assert (tmp_path / "mine.csv").read_text() == synthetic_csv(0)
    assert main(["space", "show", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_docs_walk_through_the_example_config():
    page = (REPO / "docs" / "spaces.md").read_text()
    section = page[page.index("## Your own search space"):page.index("## LIV-Bench")]
    block = section.split("```yaml\n")[1].split("```")[0]
    shown, shipped = yaml.safe_load(block), yaml.safe_load((REPO / "runs" / "landscape.yaml").read_text())
    assert shown["space"]["from"] == "mydesigns.csv"
    shipped["space"]["from"] = "mydesigns.csv"
    assert {k: v for k, v in shown.items() if k != "name"} == {k: v for k, v in shipped.items() if k != "name"}
    for command in ("livgym space example mydesigns.csv", "livgym space show mine.yaml", "livgym search mine.yaml",
                    "livgym compare mine.yaml --methods all"):
        assert command in section, command
