"""Evaluators: failures become recorded statuses, results are deterministic per seed, metrics are
what they claim, and `livgym evaluate` answers a repeated call from the store."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from livgym.cli import main
from livgym.models import Genome, efficiency
from livgym.rewards.evaluation.evaluator import Diverged, EvaluationTimeout, Evaluator, make_evaluator, replace_config
from livgym.rewards.evaluators.mad_lite import MadLiteConfig

TINY = Genome.from_string("11111-91111@w64h4")  # attention + SwiGLU
TINY_MAD = {"tasks": ("in_context_recall", "memorization"), "eval_sequences": 16,
            "train.steps": 6, "train.batch_size": 8, "train.eval_every": 3}


@dataclass(frozen=True)
class _Config:
    outcome: str = "ok"


class _Scripted(Evaluator):
    """Raises or returns what its config says, to exercise `Evaluator.evaluate`'s statuses."""

    name = "scripted"

    def _measure(self, genome: Genome, seed: int) -> dict[str, float]:
        if self.config.outcome == "diverged":
            raise Diverged("loss is nan at update 3")
        if self.config.outcome == "timeout":
            raise EvaluationTimeout("time limit reached")
        if self.config.outcome == "failed":
            raise RuntimeError("kernel exploded")
        if self.config.outcome == "nan":
            return {"quality": math.nan}
        return {"quality": 0.5}


@pytest.mark.parametrize("outcome,status", [("ok", "ok"), ("diverged", "diverged"), ("timeout", "timeout"),
                                            ("failed", "failed"), ("nan", "diverged")])
def test_failures_are_results_not_exceptions(outcome, status):
    result = _Scripted(_Config(outcome)).evaluate(TINY, seed=3)
    assert result.status == status
    assert result.seed == 3 and result.genome_hash == TINY.canonical_hash()
    assert (result.error is None) == (status == "ok")
    if outcome == "failed":
        assert "RuntimeError: kernel exploded" in result.error


def test_nan_loss_in_real_training_is_diverged():
    result = make_evaluator("mad-lite-short", **{**TINY_MAD, "train.lr": 1e9, "train.grad_clip": 1e9}).evaluate(TINY)
    assert result.status == "diverged", result.error
    assert "loss is" in result.error


def test_time_limit_is_timeout():
    result = make_evaluator("mad-lite-short", **{**TINY_MAD, "train.time_limit_s": 0.0}).evaluate(TINY)
    assert result.status == "timeout"
    assert "time limit" in result.error


def test_genome_unbuildable_at_proxy_width_is_failed():
    gqa8 = Genome.from_string("31111-91111@w512h8+3:1.2.1.2.3.1.4.0.3.2.0")  # K/V repeat 8 needs 8 heads
    result = make_evaluator("mad-lite-short", **TINY_MAD).evaluate(gqa8)
    assert result.status == "failed"
    assert "repeat=8" in result.error


def test_mad_lite_is_deterministic_per_seed():
    evaluator = make_evaluator("mad-lite-short", **TINY_MAD)
    a, b, c = evaluator.evaluate(TINY, 0), evaluator.evaluate(TINY, 0), evaluator.evaluate(TINY, 1)
    assert a.status == b.status == c.status == "ok"
    assert a.metrics == b.metrics
    assert a.metrics != c.metrics
    assert set(a.metrics) >= {"acc_in_context_recall", "acc_memorization", "quality", "params", "cache_bytes"}
    assert a.metrics["quality"] == pytest.approx((a.metrics["acc_in_context_recall"] + a.metrics["acc_memorization"]) / 2)


def test_per_task_mode_trains_a_model_per_task_and_mixture_one():
    per_task = make_evaluator("mad-lite-short", mode="per_task", **TINY_MAD).evaluate(TINY)
    mixture = make_evaluator("mad-lite-short", mode="mixture", **TINY_MAD).evaluate(TINY)
    assert per_task.ok and mixture.ok
    assert per_task.metrics["train_steps"] == 2 * 6
    assert mixture.metrics["train_steps"] == 6


def test_budgets_differ_in_steps_and_config_hash():
    short, full, long = (make_evaluator(f) for f in ("mad-lite-short", "mad-lite", "mad-lite-long"))
    assert 4 * short.config.train.steps == full.config.train.steps == long.config.train.steps // 4
    assert len({short.config_hash(), full.config_hash(), long.config_hash()}) == 3


# The evaluation store and the shipped LIV-Bench table are keyed by these: a change to a default
# config is a change of key, which needs a migration of what is stored. (byte-lm's hash also
# covers the corpus, the Python standard library's source, so it differs between Pythons.)
STORED_KEYS = {"analytic": "3bece0dd22318c4d", "efficiency": "38d3a46143f33818", "livbench": "eb8a614c4ea8fb3b",
               "mad-lite": "e48b11ecf0869f1c", "mad-lite-long": "319081bfff86a948",
               "mad-lite-short": "5e7c7d62af2c317e", "zero-cost": "9ead32ad5b40897f"}


@pytest.mark.parametrize("fidelity", sorted(STORED_KEYS))
def test_default_config_hashes_keep_the_stored_keys(fidelity):
    assert make_evaluator(fidelity).config_hash() == STORED_KEYS[fidelity]


def test_zero_cost_is_deterministic_and_finite():
    evaluator = make_evaluator("zero-cost")
    a, b = evaluator.evaluate(TINY, 0), evaluator.evaluate(TINY, 0)
    assert a.ok and a.metrics == b.metrics
    for name in ("grad_norm", "snip", "synflow", "quality"):
        assert math.isfinite(a.metrics[name])
    assert a.metrics["quality"] == pytest.approx(math.log10(a.metrics["snip"]))


def test_efficiency_reports_the_cost_model_and_a_latency():
    genome = Genome.from_string("51111-91111-11111")
    result = make_evaluator("efficiency", latency_tokens=4, latency_prefix=4).evaluate(genome)
    cost = efficiency(genome, context_length=4096)
    assert result.ok
    assert result.metrics["params"] == cost.params
    assert result.metrics["cache_bytes"] == cost.cache_bytes
    assert result.metrics["cache_bytes_long"] == efficiency(genome, context_length=32768).cache_bytes
    assert result.metrics["latency"] > 0
    assert "latency" not in make_evaluator("analytic").evaluate(genome).metrics


def test_byte_lm_on_a_user_folder(tmp_path):
    for i in range(4):
        (tmp_path / f"f{i}.py").write_text(f"def f{i}(x):\n    return x * {i} + 1\n" * 40)
    evaluator = make_evaluator("byte-lm", **{"corpus.path": str(tmp_path), "seq_len": 32, "eval_batches": 2,
                                             "train.steps": 4, "train.batch_size": 4, "train.eval_every": 2})
    a, b = evaluator.evaluate(TINY), evaluator.evaluate(TINY)
    assert a.ok, a.error
    assert a.metrics == b.metrics
    assert 0 < a.metrics["bits_per_byte"] < 8.5
    assert a.metrics["quality"] == pytest.approx(1 - a.metrics["bits_per_byte"] / 8)
    assert "corpus_hash" in a.config


def test_config_overrides_are_checked_by_name():
    config = replace_config(MadLiteConfig(), {"train.steps": 7, "width": 32}, "mad-lite")
    assert config.train.steps == 7 and config.width == 32
    with pytest.raises(ValueError, match="unknown config key 'trian'"):
        make_evaluator("mad-lite", trian=3)
    with pytest.raises(ValueError, match=r"mad-lite\.train: unknown config key 'stepz'"):
        make_evaluator("mad-lite", **{"train.stepz": 3})
    with pytest.raises(ValueError, match="unknown task"):
        make_evaluator("mad-lite", tasks=("recall",))
    with pytest.raises(ValueError, match="unknown fidelity 'mad'"):
        make_evaluator("mad")


def test_cli_evaluate_answers_the_second_call_from_the_store(tmp_path, capsys):
    store = str(tmp_path / "store.sqlite")
    args = ["evaluate", "11111-91111@w64h4", "--fidelity", "zero-cost", "--store", store]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "evaluated in" in first and "quality" in first
    assert main(args) == 0
    second = capsys.readouterr().out
    assert "answered from" in second
    metrics = lambda out: sorted(out[out.index("metric"):].splitlines())  # noqa: E731
    assert metrics(second) == metrics(first)


def test_cli_evaluate_rejects_bad_input_by_name(tmp_path, capsys):
    store = str(tmp_path / "store.sqlite")
    assert main(["evaluate", "11111@w64h4", "--fidelity", "zero-cost", "--store", store, "--set", "widht=3"]) == 2
    assert "widht" in capsys.readouterr().err
    assert main(["evaluate", "42.1.1.1.1", "--store", store]) == 2
    assert "slots[0].liv_class=42" in capsys.readouterr().err


def test_cli_evaluate_refuses_a_corrupt_store_by_path(tmp_path, capsys):
    store = tmp_path / "store.sqlite"
    store.write_bytes(b"not a database at all")
    assert main(["evaluate", "11111@w64h4", "--fidelity", "analytic", "--store", str(store)]) == 2
    assert str(store) in capsys.readouterr().err
    assert store.read_bytes() == b"not a database at all"
