"""The command line starts light: `livgym --help`, `--version`, `genome show` and `genome classes`
never import torch, SB3, W&B or scipy (each costs seconds), although the parsers offer the
registries' names (`test_cli_registries`)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "stable_baselines3", "sb3_contrib", "wandb", "scipy")
COMMANDS = (["--help"], ["--version"], ["genome", "show", "transformer++"], ["genome", "classes"],
            ["search", "--help"], ["compare", "--help"], ["evaluate", "--help"], ["space", "show", "--help"])

PROBE = """
import contextlib, io, json, sys
import livgym.cli
loaded = {"import livgym.cli": [m for m in HEAVY if m in sys.modules]}
for argv in COMMANDS:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            livgym.cli.main(argv)
        except SystemExit:  # --help and --version exit
            pass
    loaded[" ".join(argv)] = [m for m in HEAVY if m in sys.modules]
print(json.dumps(loaded))
"""


def test_cli_start_up_imports_no_heavy_module():
    code = f"HEAVY = {HEAVY!r}\nCOMMANDS = {COMMANDS!r}\n{PROBE}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {key: [] for key in loaded}, f"heavy modules imported: {loaded}"
    assert len(loaded) == len(COMMANDS) + 1


def test_a_method_unknown_to_the_registry_is_named_before_the_run_starts(tmp_path, capsys):
    from livgym.cli import main

    out = tmp_path / "run"
    assert main(["search", "--method", "reinforce", "--out", str(out), "--wandb", "disabled"]) == 2
    captured = capsys.readouterr()
    assert "method='reinforce' is not one of" in captured.err and "random" in captured.err
    assert captured.out == "" and not out.exists(), "nothing printed or written before the error"


@pytest.mark.parametrize("argv, message", [
    (["search"], "unknown fidelity 'zero-cst'"),
    (["compare", "--methods", "random"], "unknown fidelity 'zero-cst'"),
    (["compare", "--methods", "random,simulated_annealing"], "unknown method(s) ['simulated_annealing']"),
])
def test_bad_fidelities_and_methods_fail_before_a_run_path_is_printed(argv, message, tmp_path, capsys):
    from livgym.cli import main

    config = tmp_path / "bad.yaml"
    config.write_text("space: {max_depth: 4, fidelity: zero-cst}\n" if "fidelity" in message
                      else "space: {max_depth: 4, fidelity: analytic}\n")
    out = tmp_path / "run"
    assert main([argv[0], str(config), *argv[1:], "--out", str(out), "--wandb", "disabled"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == "" and not out.exists()


def test_an_unknown_reference_name_is_named_with_the_known_ones(capsys):
    from livgym.cli import main

    assert main(["genome", "show", "transformerpp"]) == 2
    err = capsys.readouterr().err
    assert "unknown reference 'transformerpp' (did you mean 'transformer++'?); known: transformer++," in err
    assert err.count("\n") == 1, "one line"
