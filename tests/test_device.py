"""The GPU path, checked on CPU-only machines: every model and the trained evaluators run on a
device that is not the CPU (`fake_device`, which fails on a stray CPU tensor as CUDA does) and give
the CPU's results; the device setting is checked by name and stays out of the config hash."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import pytest
import torch
from fake_device import fake_device
from test_operators import CASES, VOCAB

from livgym.cli import main
from livgym.envs.livbench.table import main as generate
from livgym.models.compiler import build_model
from livgym.models.genome import Genome
from livgym.rewards.evaluation.evaluator import make_evaluator
from livgym.rewards.training.device import exact_numerics, resolve_device
from livgym.rewards.evaluation.store import EvaluationStore

LENGTH = 24
RUNS = Path(__file__).resolve().parents[1] / "runs"  # the shipped search configs
TRANSFORMER = Genome.from_string("11111-91111@w64h4")  # softmax attention + SwiGLU
HYBRID = Genome.from_string("51111-91111-71111@w64h4")  # recurrence, SwiGLU, gated convolution
TINY_MAD = {"tasks": ("in_context_recall", "compression"), "eval_sequences": 16,
            "train.steps": 6, "train.batch_size": 8, "train.eval_every": 3}


@pytest.mark.parametrize("name,genome", CASES, ids=[name for name, _ in CASES])
def test_every_model_trains_and_decodes_on_another_device_as_on_the_cpu(name, genome):
    tokens = torch.randint(0, VOCAB, (2, LENGTH), generator=torch.Generator().manual_seed(0))
    results = []
    for on_device in (False, True):
        torch.manual_seed(0)
        model = build_model(genome, VOCAB)
        with fake_device() if on_device else nullcontext(torch.device("cpu")) as device:
            model.to(device)
            x = tokens.to(device)
            logits = model(x)
            logits.square().mean().backward()
            with torch.no_grad():
                cache = model.init_cache(2)
                decoded = torch.stack([model.step(x[:, t], cache) for t in range(LENGTH)], dim=1)
            results.append((logits.detach().cpu(), decoded.cpu(), [p.grad.cpu() for p in model.parameters()]))
    (cpu_logits, cpu_decoded, cpu_grads), (logits, decoded, grads) = results
    # Attention takes torch's portable kernel off the CPU, so agreement is to rounding, as on CUDA.
    torch.testing.assert_close(logits, cpu_logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(decoded, cpu_decoded, rtol=1e-5, atol=1e-5)
    for grad, cpu_grad in zip(grads, cpu_grads):
        torch.testing.assert_close(grad, cpu_grad, rtol=1e-4, atol=1e-4)


def test_the_fake_device_catches_a_tensor_left_on_the_cpu():
    class Careless(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(4, 4)

        def forward(self, x):
            return self.lin(x) * torch.ones(4)  # a mask built without device=x.device

    with fake_device() as device, pytest.raises(RuntimeError, match="same device"):
        Careless().to(device)(torch.ones(2, 4, device=device))


@pytest.mark.parametrize("fidelity,overrides", [("mad-lite-short", TINY_MAD),
                                                ("mad-lite-short", {**TINY_MAD, "mode": "mixture"})])
@pytest.mark.parametrize("genome", [TRANSFORMER, HYBRID], ids=["transformer", "hybrid"])
def test_mad_lite_on_another_device_equals_the_cpu(fidelity, overrides, genome):
    cpu = make_evaluator(fidelity, **overrides, **{"train.device": "cpu"}).evaluate(genome)
    with fake_device() as device:
        evaluator = make_evaluator(fidelity, **overrides, **{"train.device": str(device)})
        other = evaluator.evaluate(genome)
    assert cpu.ok and other.ok, other.error
    assert other.config_hash == cpu.config_hash == make_evaluator(fidelity, **overrides).config_hash()
    assert (cpu.config["ran_on"], other.config["ran_on"]) == ("cpu", "fakegpu:0")
    assert other.metrics.keys() == cpu.metrics.keys()
    for name, value in cpu.metrics.items():
        assert other.metrics[name] == pytest.approx(value, rel=1e-4, abs=1e-4), name


def test_byte_lm_on_another_device_equals_the_cpu(tmp_path):
    for i in range(4):
        (tmp_path / f"f{i}.py").write_text(f"def f{i}(x):\n    return x * {i} + 1\n" * 40)
    overrides = {"corpus.path": str(tmp_path), "seq_len": 32, "eval_batches": 2,
                 "train.steps": 4, "train.batch_size": 4, "train.eval_every": 2}
    cpu = make_evaluator("byte-lm", **overrides, **{"train.device": "cpu"}).evaluate(HYBRID)
    with fake_device() as device:
        other = make_evaluator("byte-lm", **overrides, **{"train.device": str(device)}).evaluate(HYBRID)
    assert cpu.ok and other.ok, other.error
    assert other.metrics["bits_per_byte"] == pytest.approx(cpu.metrics["bits_per_byte"], rel=1e-5)


def test_device_is_recorded_but_not_hashed():
    auto, cpu = make_evaluator("mad-lite"), make_evaluator("mad-lite", **{"train.device": "cpu"})
    assert auto.config.train.device == "auto" and cpu.config.train.device == "cpu"
    assert auto.config_hash() == cpu.config_hash()
    assert auto.config_dict()["train"]["device"] == "auto"  # the stored config still says what was asked
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize("name", ["gpu0", "cuda:x", ""])
def test_a_bad_device_name_is_an_error_naming_it(name):
    with pytest.raises(ValueError, match=f"train.device={name!r}"):
        make_evaluator("mad-lite", **{"train.device": name})


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_an_error_naming_it():
    with pytest.raises(ValueError, match="device='cuda:1'.*no usable CUDA"):
        make_evaluator("mad-lite-short", **{"train.device": "cuda:1"})


def test_exact_numerics_on_cuda_sets_and_restores_the_flags():
    before = _numerics_flags()
    with exact_numerics(torch.device("cuda")):
        assert _numerics_flags() == (False, False, True, False, True)
    assert _numerics_flags() == before
    with exact_numerics(torch.device("cpu")):
        assert _numerics_flags() == before


def _numerics_flags() -> tuple[bool, ...]:
    return (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark,
            torch.are_deterministic_algorithms_enabled())


def test_cli_evaluate_takes_a_device_and_reports_where_it_ran(tmp_path, capsys):
    store = str(tmp_path / "store.sqlite")
    args = ["evaluate", "11111-91111@w64h4", "--fidelity", "mad-lite-short", "--store", store,
            "--set", "train.steps=2", "--set", "tasks=[compression]", "--set", "eval_sequences=4"]
    assert main([*args, "--device", "cpu"]) == 0
    assert "on cpu" in capsys.readouterr().out
    assert main([*args, "--device", "auto"]) == 0  # the device is not in the key: a store hit
    assert "answered from" in capsys.readouterr().out
    assert main([*args, "--device", "tpu9"]) == 2
    assert "train.device='tpu9'" in capsys.readouterr().err
    assert main(["evaluate", "11111@w64h4", "--fidelity", "zero-cost", "--store", store, "--device", "cpu"]) == 2
    assert "'zero-cost' trains nothing" in capsys.readouterr().err


def test_the_table_generator_refuses_an_unknown_device_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        generate(["--device", "tpu9", "--limit", "1", "--store", str(tmp_path / "s.sqlite"),
                  "--out", str(tmp_path / "t.json.gz")])
    assert exit_info.value.code == 2
    assert "train.device='tpu9'" in capsys.readouterr().err
    assert not (tmp_path / "s.sqlite").exists()


def test_cli_search_takes_a_device_for_the_fidelity_that_trains(tmp_path, capsys):
    config = tmp_path / "search.yaml"
    config.write_text("name: device\nmethod: random\nbudget: 2\nspace: {max_depth: 3, fidelity: mad-lite-short, "
                      "fidelity_overrides: {train.steps: 2, tasks: [compression], eval_sequences: 4}}\n")
    store, out = tmp_path / "store.sqlite", tmp_path / "run"
    common = ["--store", str(store), "--wandb", "disabled"]
    assert main(["search", str(config), "--device", "cpu", "--out", str(out), *common]) == 0
    assert "train.device: cpu" in (out / "config.yaml").read_text()
    with EvaluationStore(store) as opened:
        assert {r.config["ran_on"] for r in opened.results()} == {"cpu"}
    capsys.readouterr()
    assert main(["search", str(RUNS / "quickstart.yaml"), "--device", "cpu", "--out", str(tmp_path / "b"), *common]) == 2
    assert "'zero-cost' trains nothing" in capsys.readouterr().err
    assert main(["search", str(RUNS / "livbench.yaml"), "--device", "cpu", "--out", str(tmp_path / "c"), *common]) == 2
    assert "LIVBench-v0 answers from its table" in capsys.readouterr().err
