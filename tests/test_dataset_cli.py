"""`livgym dataset list|show|import|export`: each on a small dataset written here, importing twice
adds nothing the second time, export filters by a fidelity's config hash, each bad input is one
line naming it with exit code 2, and `list`, `show` and `--help` start without torch."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

import livgym.rewards.evaluation.dataset as dataset_module
from livgym.cli import main
from livgym.commands.common import DEFAULT_STORE, STORE_VARIABLE
from livgym.models import Genome
from livgym.rewards.evaluation.evaluator import make_evaluator
from livgym.rewards.evaluation.dataset import read_dataset, shipped_datasets, write_dataset
from livgym.rewards.evaluation.result import EvaluationResult
from livgym.rewards.evaluation.store import EvaluationStore
from livgym.version import __version__

GENOMES = ("11111-91111@w64h4", "51111-91111@w64h4", "71111-91111@w64h4")


def _result(text: str, fidelity: str, quality: float, status: str = "ok") -> EvaluationResult:
    genome, evaluator = Genome.from_string(text), make_evaluator(fidelity)
    return EvaluationResult(
        genome_hash=genome.canonical_hash(), genome=genome.to_string(), evaluator=evaluator.name, fidelity=fidelity,
        config_hash=evaluator.config_hash(), seed=0, status=status, metrics={"quality": quality}, wall_time=120.0)


def _results() -> list[EvaluationResult]:
    """Three mad-lite results (one diverged) and one zero-cost result."""
    return [_result(GENOMES[0], "mad-lite", 0.75), _result(GENOMES[1], "mad-lite", 0.5),
            _result(GENOMES[2], "mad-lite", float("nan"), status="diverged"), _result(GENOMES[0], "zero-cost", 0.3)]


@pytest.fixture
def shipped(tmp_path, monkeypatch) -> Path:
    """A data folder standing in for `rewards/data/`, holding `study` (four results) and `other` (one)."""
    data = tmp_path / "data"
    monkeypatch.setattr(dataset_module, "DATA_DIR", data)
    write_dataset(data / "study.jsonl.gz", _results())
    write_dataset(data / "other.jsonl.gz", [_result(GENOMES[1], "zero-cost", 0.2)])
    return data


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_shows_each_shipped_dataset_on_one_line(shipped, capsys):
    code, out, _ = _run(capsys, "dataset", "list")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert rows["name"].split() == ["name", "results", "fidelities", "statuses"]
    assert rows["study"].split()[1] == "4"
    assert "mad-lite 3, zero-cost 1" in rows["study"] and "ok 3, diverged 1" in rows["study"]
    assert rows["other"].split()[1] == "1" and "zero-cost 1" in rows["other"]


def test_list_names_the_real_shipped_datasets(capsys):
    code, out, _ = _run(capsys, "dataset", "list")
    assert code == 0
    listed = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {path.name.removesuffix(".jsonl.gz") for path in shipped_datasets()} <= listed


def test_show_summarises_a_shipped_name_and_a_file(shipped, capsys):
    code, by_name, _ = _run(capsys, "dataset", "show", "study", "--genomes", "2")
    assert code == 0
    mad_hash, zero_hash = make_evaluator("mad-lite").config_hash(), make_evaluator("zero-cost").config_hash()
    assert "dataset study" in by_name and "4 results" in by_name
    assert "evaluators:       mad-lite 3, zero-cost 1" in by_name
    assert f"mad-lite (config {mad_hash}) 3, zero-cost (config {zero_hash}) 1" in by_name
    assert "statuses:         ok 3, diverged 1" in by_name
    assert f"library versions: {__version__} 4" in by_name
    assert "8.0 min in all" in by_name, "four results of 120 s"
    genome_lines = [line for line in by_name.splitlines() if line.startswith("  ")]
    assert len(genome_lines) == 2 and "genomes (first 2 of 4)" in by_name
    shown = {Genome.from_string(line.split()[0]).to_string() for line in genome_lines}
    assert shown <= {Genome.from_string(text).to_string() for text in GENOMES}
    code, by_path, _ = _run(capsys, "dataset", "show", str(shipped / "study.jsonl.gz"), "--genomes", "2")
    assert code == 0 and by_path == by_name, "a name and its file show the same"


def test_import_by_name_and_file_is_idempotent(shipped, tmp_path, capsys):
    store = tmp_path / "store.sqlite"
    code, out, _ = _run(capsys, "dataset", "import", "study", str(shipped / "other.jsonl.gz"), "--store", str(store))
    assert code == 0
    assert "study: 4 added, 0 already present" in out and "other: 1 added, 0 already present" in out
    assert f"store {store}: 5 results" in out
    code, out, _ = _run(capsys, "dataset", "import", "--all", "--store", str(store))
    assert code == 0
    assert "study: 0 added, 4 already present" in out and "other: 0 added, 1 already present" in out
    with EvaluationStore(store, readonly=True) as opened:
        assert {r.key for r in opened.results()} == {r.key for r in read_dataset(shipped / "study.jsonl.gz")} | \
            {r.key for r in read_dataset(shipped / "other.jsonl.gz")}


def test_import_uses_the_search_command_s_default_store(shipped, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(STORE_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(capsys, "dataset", "import", "other")
    assert code == 0 and f"store {DEFAULT_STORE}: 1 results" in out
    assert (tmp_path / DEFAULT_STORE).is_file()
    monkeypatch.setenv(STORE_VARIABLE, str(tmp_path / "moved.sqlite"))
    assert main(["dataset", "import", "other"]) == 0 and (tmp_path / "moved.sqlite").is_file()


def test_export_writes_the_store_or_only_some_fidelities_merged_with_the_file(shipped, tmp_path, capsys):
    store, out = tmp_path / "store.sqlite", tmp_path / "out" / "mine.jsonl.gz"
    assert main(["dataset", "import", "study", "--store", str(store)]) == 0
    capsys.readouterr()
    code, printed, _ = _run(capsys, "dataset", "export", "--store", str(store), "--out", str(out),
                            "--fidelity", "zero-cost")
    assert code == 0 and "1 results (1 new" in printed and "0 already in the file" in printed
    assert [r.fidelity for r in read_dataset(out)] == ["zero-cost"]
    code, printed, _ = _run(capsys, "dataset", "export", "--store", str(store), "--out", str(out),
                            "--fidelity", "mad-lite", "--fidelity", "zero-cost")
    assert code == 0 and "4 results (3 new" in printed and "1 already in the file" in printed
    assert {r.key for r in read_dataset(out)} == {r.key for r in _results()}
    assert main(["dataset", "export", "--store", str(store), "--out", str(out)]) == 0
    assert len(list(read_dataset(out))) == 4, "exporting again adds nothing"


def _one_error_line(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured.err
    return captured.err


def test_an_unknown_shipped_name_is_named_with_the_shipped_ones(shipped, tmp_path, capsys):
    for argv in (["dataset", "show", "studdy"], ["dataset", "import", "studdy", "--store", str(tmp_path / "s.sqlite")]):
        err = _one_error_line(capsys, argv)
        assert "no shipped dataset 'studdy'" in err and "'study'" in err and "'other'" in err
    assert not (tmp_path / "s.sqlite").exists(), "no store is made for a failed import"


def test_a_missing_file_is_named(tmp_path, capsys):
    missing = str(tmp_path / "gone.jsonl.gz")
    for argv in (["dataset", "show", missing], ["dataset", "import", missing, "--store", str(tmp_path / "s.sqlite")]):
        assert f"dataset file {missing!r} does not exist" in _one_error_line(capsys, argv)


def test_a_corrupt_line_is_named_and_nothing_is_imported(shipped, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl.gz"
    lines = gzip.decompress((shipped / "study.jsonl.gz").read_bytes()).decode().splitlines()
    bad.write_bytes(gzip.compress((lines[0] + "\n{not json\n").encode()))
    store = tmp_path / "s.sqlite"
    assert f"{bad}:2: not JSON" in _one_error_line(capsys, ["dataset", "show", str(bad)])
    err = _one_error_line(capsys, ["dataset", "import", "study", str(bad), "--store", str(store)])
    assert f"{bad}:2: not JSON" in err
    assert not store.exists(), "every dataset is read before the store is opened"
    wrong = tmp_path / "wrong.jsonl.gz"
    wrong.write_bytes(gzip.compress((json.dumps({**json.loads(lines[0]), "status": "great"}) + "\n").encode()))
    assert f"{wrong}:1: status='great'" in _one_error_line(capsys, ["dataset", "show", str(wrong)])
    damaged = tmp_path / "damaged.jsonl.gz"
    damaged.write_bytes((shipped / "study.jsonl.gz").read_bytes()[:-30])
    assert f"{damaged}: not a readable gzip dataset" in _one_error_line(capsys, ["dataset", "show", str(damaged)])


def test_a_corrupt_file_is_not_exported_over(shipped, tmp_path, capsys):
    store, bad = tmp_path / "store.sqlite", tmp_path / "bad.jsonl.gz"
    assert main(["dataset", "import", "study", "--store", str(store)]) == 0
    capsys.readouterr()
    bad.write_bytes(gzip.compress(b"{not json\n"))
    before = bad.read_bytes()
    err = _one_error_line(capsys, ["dataset", "export", "--store", str(store), "--out", str(bad)])
    assert f"{bad}:1: not JSON" in err and bad.read_bytes() == before


def test_an_unknown_fidelity_and_other_bad_export_input_are_named(shipped, tmp_path, capsys):
    store, out = tmp_path / "store.sqlite", tmp_path / "mine.jsonl.gz"
    assert main(["dataset", "import", "study", "--store", str(store)]) == 0
    capsys.readouterr()
    err = _one_error_line(capsys, ["dataset", "export", "--store", str(store), "--out", str(out),
                                   "--fidelity", "mad-lit"])
    assert "unknown fidelity 'mad-lit'; known:" in err and not out.exists()
    err = _one_error_line(capsys, ["dataset", "export", "--store", str(store), "--out", str(tmp_path / "mine.json")])
    assert "--out " in err and "mine.json" in err and ".jsonl.gz" in err
    err = _one_error_line(capsys, ["dataset", "export", "--store", str(tmp_path / "none.sqlite"), "--out", str(out)])
    assert "none.sqlite" in err and "does not exist" in err


def test_import_needs_names_or_all_not_both(shipped, tmp_path, capsys):
    store = str(tmp_path / "s.sqlite")
    assert "or give --all" in _one_error_line(capsys, ["dataset", "import", "--store", store])
    assert "['study']" in _one_error_line(capsys, ["dataset", "import", "study", "--all", "--store", store])


HEAVY = ("torch", "stable_baselines3", "sb3_contrib", "wandb", "scipy")


def test_list_show_and_help_start_without_heavy_modules():
    probe = f"""
import contextlib, io, json, sys
import livgym.cli
loaded = {{}}
for argv in (["dataset", "--help"], ["dataset", "list"], ["dataset", "show", "mad_lite_speed"]):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            livgym.cli.main(argv)
        except SystemExit:
            pass
    loaded[" ".join(argv)] = [m for m in {HEAVY!r} if m in sys.modules]
print(json.dumps(loaded))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {key: [] for key in loaded}, f"heavy modules imported: {loaded}"
