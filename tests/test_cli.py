"""`livgym genome ...`: the numbers it prints are the cost model's, and bad input is named."""

from __future__ import annotations

import json

from livgym.cli import main
from livgym.models import reference_genome


def test_show_prints_the_star_check_figure(capsys):
    assert main(["genome", "show", "transformer++", "--width", "2048", "--heads", "16", "--depth", "48",
                 "--context-length", "4096", "32768"]) == 0
    out = capsys.readouterr().out
    assert "cache 805,306,368 bytes (768.0 MiB)" in out
    assert "context  32768" in out
    assert "48 slots: SA-1 x24, GMemless x24" in out


def test_show_json_for_a_string_and_a_file(tmp_path, capsys):
    assert main(["genome", "show", "21211-31112-21221-32112", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["star_notation"] == "21211-31112-21221-32112"
    assert data["costs"][0]["context_length"] == 4096
    genome = reference_genome("striped-hybrid", depth=6, width=64, heads=4)
    path = tmp_path / "g.json"
    path.write_text(genome.to_json())
    assert main(["genome", "show", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["canonical_hash"] == genome.canonical_hash()
    assert data["heads"] == 4  # the file's own heads, not a default


def test_default_heads_follow_width(capsys):
    assert main(["genome", "show", "transformer++", "--width", "768", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["heads"] == 12


def test_bad_input_is_named(tmp_path, capsys):
    assert main(["genome", "show", "21211-41211"]) == 2
    assert "slots[1].featurizer_group=1" in capsys.readouterr().err
    assert main(["genome", "show", str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"slots": [[1, 1, 1, 1, 1]], "widht": 64}')
    assert main(["genome", "show", str(bad)]) == 2
    assert "widht" in capsys.readouterr().err
    assert main(["genome", "show", "11111", "--depth", "3"]) == 2
    assert "--depth applies to reference names" in capsys.readouterr().err


def test_classes_and_references_list_everything(capsys):
    assert main(["genome", "classes"]) == 0
    out = capsys.readouterr().out
    assert "SA-1" in out and "LinAttn" in out and "banded 64" in out
    assert main(["genome", "references", "--width", "256", "--depth", "8"]) == 0
    out = capsys.readouterr().out
    assert "kv-sharing-transformer" in out and "width 256, heads 4" in out


def test_the_store_comes_from_livgym_store_when_the_command_runs(tmp_path, monkeypatch, capsys):
    from livgym.cli import build_parser

    parser = build_parser()  # built before the variable is set: it is read when the command runs
    monkeypatch.setenv("LIVGYM_STORE", str(tmp_path / "env.sqlite"))
    args = parser.parse_args(["evaluate", "91111@w64h4", "--fidelity", "analytic", "--json"])
    assert args.run(args) == 0
    assert json.loads(capsys.readouterr().out)["store"] == str(tmp_path / "env.sqlite")
    assert (tmp_path / "env.sqlite").exists()
    given = tmp_path / "given.sqlite"
    assert main(["evaluate", "91111@w64h4", "--fidelity", "analytic", "--json", "--store", str(given)]) == 0
    assert json.loads(capsys.readouterr().out)["store"] == str(given), "--store wins over the variable"
