"""MAD's synthetic tasks: determinism, probe labels re-derived by parsing, vocabularies, mixtures."""

from __future__ import annotations

import pytest
import torch

from livgym.rewards.training import tasks
from livgym.rewards.training.tasks import (
    IGNORE_INDEX,
    TASKS,
    CompressionConfig,
    FuzzyRecallConfig,
    InContextRecallConfig,
    MemorizationConfig,
    NoisyRecallConfig,
    SelectiveCopyingConfig,
    TaskBatch,
)


def batch_of(config, n: int = 16, seed: int = 0) -> TaskBatch:
    return tasks.make_batch(config, n, torch.Generator().manual_seed(seed))


def rows(batch: TaskBatch):
    return zip(batch.inputs.tolist(), batch.targets.tolist())


# ----------------------------------------------------------------------------- every task


@pytest.mark.parametrize("name", list(TASKS))
def test_same_seed_same_batch_other_seed_other_batch(name):
    config = TASKS[name].config_class()
    a, b, c = batch_of(config, seed=3), batch_of(config, seed=3), batch_of(config, seed=4)
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.inputs, c.inputs)


@pytest.mark.parametrize("name", list(TASKS))
def test_shapes_dtypes_ids_within_vocab(name):
    config = TASKS[name].config_class()
    batch = batch_of(config, n=32)
    assert batch.inputs.shape == batch.targets.shape == (32, config.seq_len)
    assert batch.inputs.dtype == batch.targets.dtype == torch.long
    assert batch.inputs.min() >= 0 and batch.inputs.max() < tasks.vocab_size(config)
    probed = batch.targets[batch.probes]
    assert len(probed) > 0 and probed.min() >= 0 and probed.max() < tasks.vocab_size(config)
    assert tasks.task_name(config) == name


@pytest.mark.parametrize("name", list(TASKS))
def test_zero_sequences(name):
    batch = batch_of(TASKS[name].config_class(), n=0)
    assert batch.inputs.shape[0] == 0


# ----------------------------------------------------------------------------- recall


def check_recall(config, batch: TaskBatch, noise: range = range(0)) -> None:
    """Re-derive every recall target: pairs are (key, value) adjacent; a key's first pair is
    context, later pairs query it and are probed at the key with the context value."""
    for inputs, targets in rows(batch):
        assert len(inputs) == config.seq_len
        memory: dict[int, int] = {}
        expected = [IGNORE_INDEX] * len(inputs)
        t = 0
        while t < len(inputs):
            token = inputs[t]
            if token in noise:
                t += 1
                continue
            assert token in config.keys and inputs[t + 1] in config.values, (inputs, t)
            key, value = token, inputs[t + 1]
            if key in memory:
                assert len(memory) == config.num_kv_pairs  # queries only after the whole context
                assert value == memory[key]
                expected[t] = value
            else:
                memory[key] = value
            t += 2
        assert len(memory) == config.num_kv_pairs == len(set(memory.values()))
        assert targets == expected
        assert any(target != IGNORE_INDEX for target in targets)


def test_in_context_recall_hand_instance():
    config = InContextRecallConfig(seq_len=12, num_keys=4, num_values=3, num_kv_pairs=3)
    assert (list(config.keys), list(config.values), config.vocab_size) == ([0, 1, 2, 3], [4, 5, 6], 7)
    batch = batch_of(config, n=1)
    inputs, targets = batch.inputs[0].tolist(), batch.targets[0].tolist()
    context = dict(zip(inputs[0:6:2], inputs[1:6:2]))
    assert len(context) == 3
    for t in range(6, 12, 2):
        assert inputs[t + 1] == context[inputs[t]]
        assert targets[t] == context[inputs[t]] and targets[t + 1] == IGNORE_INDEX
    assert targets[:6] == [IGNORE_INDEX] * 6


def test_in_context_recall_probes():
    config = InContextRecallConfig()
    check_recall(config, batch_of(config, n=64))


def test_noisy_recall_probes_and_noise_share():
    config = NoisyRecallConfig()
    batch = batch_of(config, n=256)
    check_recall(config, batch, noise=config.noise)
    noise = (batch.inputs >= config.noise.start).float().mean().item()
    assert abs(noise - config.noise_fraction) < 0.03
    assert not batch.targets[batch.inputs >= config.noise.start].ne(IGNORE_INDEX).any()


def test_noisy_recall_odd_length_and_no_noise():
    check_recall(NoisyRecallConfig(seq_len=23), batch_of(NoisyRecallConfig(seq_len=23), n=64),
                 noise=NoisyRecallConfig().noise)
    quiet = NoisyRecallConfig(noise_fraction=0.0)
    assert not (batch_of(quiet, n=64).inputs >= quiet.noise.start).any()


def runs(inputs: list[int], config: FuzzyRecallConfig) -> list[tuple[str, int, int]]:
    """Maximal runs (kind, start, end) of key, value or pad tokens."""
    def kind(token: int) -> str:
        return "key" if token in config.keys else "value" if token in config.values else "pad"
    out: list[tuple[str, int, int]] = []
    for t, token in enumerate(inputs):
        if out and out[-1][0] == kind(token):
            out[-1] = (kind(token), out[-1][1], t + 1)
        else:
            out.append((kind(token), t, t + 1))
    return out


@pytest.mark.parametrize("config", [FuzzyRecallConfig(), FuzzyRecallConfig(seq_len=40, max_key_motif=2,
                                                                              max_value_motif=1, num_kv_pairs=4)])
def test_fuzzy_recall_probes(config):
    batch = batch_of(config, n=64)
    assert config.pad == config.vocab_size - 1
    sizes = set()
    for inputs, targets in rows(batch):
        found = runs(inputs, config)
        if found[-1][0] == "pad":
            found.pop()
            assert set(inputs[found[-1][2]:]) == {config.pad}
        assert len(found) % 2 == 0 and all(k == "key" for k, _, _ in found[::2])
        pairs = [(tuple(inputs[a:b]), tuple(inputs[c:d])) for (_, a, b), (_, c, d) in zip(found[::2], found[1::2])]
        context = dict(pairs[:config.num_kv_pairs])
        assert len(context) == config.num_kv_pairs  # distinct key motifs
        expected = [IGNORE_INDEX] * len(inputs)
        spans = [(key_run[2], value_run[2]) for key_run, value_run in zip(found[::2], found[1::2])]
        for index, ((key_end, value_end), (key, value)) in enumerate(zip(spans, pairs)):
            sizes.add((len(key), len(value)))
            assert len(set(key)) == len(key) <= config.max_key_motif
            assert len(set(value)) == len(value) <= config.max_value_motif
            if index >= config.num_kv_pairs:  # a query: probe the value tokens
                assert value == context[key]
                for t in range(key_end - 1, value_end - 1):
                    expected[t] = inputs[t + 1]
        assert len(pairs) > config.num_kv_pairs  # at least one query
        assert targets == expected
    assert len(sizes) == config.max_key_motif * config.max_value_motif  # every motif size occurs


# ----------------------------------------------------------------------------- copying, compression


def test_selective_copying_probes():
    config = SelectiveCopyingConfig()
    assert (config.blank, config.copy_signal, config.vocab_size) == (14, 15, 16)
    for inputs, targets in rows(batch_of(config, n=64)):
        signal = inputs.index(config.copy_signal)
        assert signal == config.prefix_len and inputs.count(config.copy_signal) == 1
        copied = [token for token in inputs[:signal] if token != config.blank]
        assert len(copied) == config.num_tokens_to_copy
        assert inputs[signal + 1:] == [config.blank] * config.num_tokens_to_copy
        assert targets == [IGNORE_INDEX] * (signal + 1) + copied


def test_selective_copying_uses_only_the_generator():
    """mad-lab drew positions from NumPy's global RNG; reseeding torch's global RNG must not matter."""
    config = SelectiveCopyingConfig()
    torch.manual_seed(1)
    a = batch_of(config, seed=5)
    torch.manual_seed(2)
    b = batch_of(config, seed=5)
    assert torch.equal(a.inputs, b.inputs)


def test_compression_without_noise():
    config = CompressionConfig(seq_len=8, num_content_tokens=4)
    k = config.num_tokens
    for inputs, targets in rows(batch_of(config, n=8)):
        assert inputs[k:] == [config.reconstruct] + [config.blank] * (k - 1)
        assert targets == [IGNORE_INDEX] * k + inputs[:k]


@pytest.mark.parametrize("probe_noised", [False, True])
def test_compression_noise_in_inputs_clean_targets(probe_noised):
    config = CompressionConfig(noise_fraction=0.3, num_noise_tokens=2, probe_noised=probe_noised)
    k = config.num_tokens
    batch = batch_of(config, n=64)
    noised = 0
    for inputs, targets in rows(batch):
        assert targets[:k] == [IGNORE_INDEX] * k
        for shown, target in zip(inputs[:k], targets[k:]):
            if shown in config.noise:
                noised += 1
                assert target in config.content if probe_noised else target == IGNORE_INDEX
            else:
                assert shown in config.content and target == shown
    assert abs(noised / (64 * k) - config.noise_fraction) < 0.05


def test_compression_noise_does_not_change_clean_tokens():
    """The targets are the clean draw: the same seed with and without noise gives the same targets."""
    clean = batch_of(CompressionConfig(num_noise_tokens=1), seed=9)
    noisy = batch_of(CompressionConfig(noise_fraction=0.5, probe_noised=True), seed=9)
    assert torch.equal(clean.targets, noisy.targets)
    assert not torch.equal(clean.inputs, noisy.inputs)


# ----------------------------------------------------------------------------- memorization


def test_memorization_facts_fixed_by_facts_seed():
    config = MemorizationConfig()
    facts = tasks.memorization_facts(config)
    assert facts.shape == (config.num_keys,) and facts.min() >= config.num_keys and facts.max() < config.vocab_size
    assert not torch.equal(facts, tasks.memorization_facts(MemorizationConfig(facts_seed=1)))
    seen: dict[int, int] = {}
    for seed in (0, 1):
        for inputs, targets in rows(batch_of(config, n=32, seed=seed)):
            for t in range(0, config.seq_len, 2):
                key, value = inputs[t], inputs[t + 1]
                assert value == facts[key] == targets[t] and targets[t + 1] == IGNORE_INDEX
                assert seen.setdefault(key, value) == value
    assert len(seen) > config.num_keys // 2
    assert not torch.equal(batch_of(config, seed=0).inputs, batch_of(config, seed=1).inputs)


# ----------------------------------------------------------------------------- configs, mixtures, scoring


@pytest.mark.parametrize("make", [
    lambda: InContextRecallConfig(seq_len=63),
    lambda: InContextRecallConfig(num_kv_pairs=9),
    lambda: InContextRecallConfig(num_keys=12, num_values=6),
    lambda: NoisyRecallConfig(noise_fraction=1.0),
    lambda: FuzzyRecallConfig(seq_len=30),
    lambda: SelectiveCopyingConfig(seq_len=17, num_tokens_to_copy=8),
    lambda: CompressionConfig(noise_fraction=0.1, num_noise_tokens=0),
    lambda: MemorizationConfig(seq_len=31),
])
def test_bad_configs_are_refused_by_name(make):
    with pytest.raises(ValueError, match="Config: "):
        make()


def test_mixture_layout_tags_padding_and_split():
    configs = {"memorization": MemorizationConfig(), "selective_copying": SelectiveCopyingConfig(seq_len=40),
               "noisy_recall": NoisyRecallConfig()}
    layout = tasks.mixture_layout(configs)
    assert layout.names == tuple(configs) and layout.pad == 3 and layout.seq_len == 65
    assert layout.offsets == (4, 4 + 128, 4 + 128 + 16)
    assert tasks.mixture_vocab_size(configs) == layout.vocab_size == 4 + 128 + 16 + 32
    n = 20
    batch, task_ids = tasks.make_mixture_batch(configs, n, torch.Generator().manual_seed(7))
    assert batch.inputs.shape == batch.targets.shape == (n, 65) and task_ids.shape == (n,)
    assert torch.equal(batch.inputs[:, 0], task_ids) and (batch.targets[:, 0] == IGNORE_INDEX).all()
    assert sorted(torch.bincount(task_ids).tolist()) == [6, 7, 7]
    assert batch.inputs.max() < layout.vocab_size
    for i, length in enumerate(layout.task_lengths):
        rows_i = task_ids == i
        assert (batch.inputs[rows_i, 1 + length:] == layout.pad).all()
        assert (batch.targets[rows_i, 1 + length:] == IGNORE_INDEX).all()

    # The documented draw order: the row permutation, then each task's batch in configs order.
    generator = torch.Generator().manual_seed(7)
    torch.randperm(n, generator=generator)
    split = tasks.split_mixture_batch(batch, task_ids, configs)
    for i, (name, config) in enumerate(configs.items()):
        own = tasks.make_batch(config, int((task_ids == i).sum()), generator)
        assert torch.equal(split[name].inputs, own.inputs) and torch.equal(split[name].targets, own.targets)


def test_mixture_of_all_tasks_with_fewer_rows_than_tasks():
    configs = {name: task.config_class() for name, task in TASKS.items()}
    batch, task_ids = tasks.make_mixture_batch(configs, 4, torch.Generator().manual_seed(0))
    assert batch.inputs.shape == (4, 65) and len(set(task_ids.tolist())) == 4


def test_mixture_refuses_mismatched_names():
    with pytest.raises(ValueError, match="'compression'"):
        tasks.mixture_layout({"compression": MemorizationConfig()})
    with pytest.raises(ValueError, match="at least one"):
        tasks.mixture_layout({})


def test_probe_accuracy_and_sequence_accuracy():
    targets = torch.tensor([[IGNORE_INDEX, 1, 2], [0, IGNORE_INDEX, IGNORE_INDEX], [IGNORE_INDEX] * 3])
    predicted = torch.tensor([[0, 1, 0], [0, 2, 2], [1, 1, 1]])
    logits = torch.nn.functional.one_hot(predicted, 3).float()
    assert tasks.probe_accuracy(logits, targets) == pytest.approx(2 / 3)
    assert tasks.sequence_accuracy(logits, targets) == pytest.approx(1 / 2)
    perfect = torch.nn.functional.one_hot(targets.clamp(min=0), 3).float()
    assert tasks.probe_accuracy(perfect, targets) == 1.0
    with pytest.raises(ValueError, match="no probe"):
        tasks.probe_accuracy(logits, torch.full((3, 3), IGNORE_INDEX))
