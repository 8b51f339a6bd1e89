"""MAD's six synthetic token tasks, generated in-process from a seed, at CPU-proxy scale.

MAD (Poli et al., ICML 2024, arXiv 2403.17844; code: mad-lab) scores an architecture by its
probe accuracy on six small tasks; those scores rank architectures like their compute-optimal
perplexity at scale. mad-lab generates its data ahead of time with NumPy; here every batch is
drawn on the fly from a caller's `torch.Generator`, on CPU, with nothing read or downloaded.

Conventions shared by every task:
- `make_batch(config, num_sequences, generator) -> TaskBatch` with `inputs` and `targets`,
  both int64 of shape (num_sequences, config.seq_len). The model reads `inputs[:, :t + 1]`
  and must predict `targets[:, t]`; `targets` is `IGNORE_INDEX` (-100, the default
  `ignore_index` of `torch.nn.functional.cross_entropy`) everywhere except the probe positions.
- Every random draw comes from the passed generator, with shapes that depend on the config
  only, so the same config and generator seed give identical tensors. (mad-lab's selective
  copying draws its positions from NumPy's global generator instead: not copied here.)
- Token ids of each task start at 0; each config documents its vocabulary layout and exposes
  the id ranges as properties (`keys`, `values`, `noise`, ...) and `vocab_size`.
- Defaults are smaller than mad-lab's (sequence 64 instead of 128-256) so that a proxy
  trains in minutes on a CPU core; each config's docstring names the mad-lab baseline it reduces.

The registry `TASKS` maps each task name to its config class and batch function;
`make_mixture_batch` interleaves several tasks in one batch over a shared vocabulary, each
sequence opened by a task-tag token (see `MixtureLayout`).

    >>> import torch
    >>> from livgym.rewards.training import tasks
    >>> batch = tasks.make_batch(tasks.InContextRecallConfig(), 4, torch.Generator().manual_seed(0))
    >>> batch.inputs.shape, int((batch.targets != tasks.IGNORE_INDEX).sum()) > 0
    (torch.Size([4, 64]), True)
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, NamedTuple, Union

import torch
from torch import Tensor

IGNORE_INDEX = -100  # target of every position that is not probed


@dataclass(frozen=True, eq=False)
class TaskBatch:
    """Token sequences and their probe targets, both int64 of shape (N, L)."""

    inputs: Tensor  # (N, L) token ids
    targets: Tensor  # (N, L) token ids at probe positions, IGNORE_INDEX elsewhere

    def __post_init__(self) -> None:
        if self.inputs.dim() != 2 or self.inputs.shape != self.targets.shape:
            raise ValueError(f"inputs {tuple(self.inputs.shape)} and targets {tuple(self.targets.shape)} "
                             "must both be (num_sequences, seq_len)")

    @property
    def probes(self) -> Tensor:
        """(N, L) bool: where a target is set."""
        return self.targets != IGNORE_INDEX


def _require(condition: bool, config: object, message: str) -> None:
    if not condition:
        raise ValueError(f"{type(config).__name__}: {message}")


# ----------------------------------------------------------------------------- configs


@dataclass(frozen=True)
class InContextRecallConfig:
    """Multi-query associative recall (MQAR, Zoology; MAD's in-context recall).

    Vocabulary (`vocab_size` = num_keys + num_values):
        keys    [0, num_keys)
        values  [num_keys, num_keys + num_values)
    Sequence: `num_kv_pairs` context pairs `k v`, keys distinct and values distinct (a new
    key -> value map per sequence), then query pairs `q v(q)`, q uniform over the context keys,
    until `seq_len` is filled.
    Probes: every query key; its target is the key's value (which is also the next input).
    Keys and values come from disjoint parts of the vocabulary and values are drawn without
    replacement, as in Zoology's MQAR. (mad-lab draws values with replacement: then guessing the
    sequence's most frequent value scores about 0.3 instead of 1/8 with no recall at all.)
    Queries follow the context back to back rather than at Zoology's power-law gaps.
    mad-lab baseline: vocab 16, seq 128. Here: the same vocabulary (8 keys, 8 values) at seq 64
    with 8 pairs (Zoology's default at seq 64) and 24 queries.
    """

    seq_len: int = 64  # tokens per sequence, even
    num_keys: int = 8  # key tokens
    num_values: int = 8  # value tokens
    num_kv_pairs: int = 8  # context pairs per sequence (distinct keys)

    def __post_init__(self) -> None:
        _check_recall_shape(self, self.num_keys, self.num_values, self.num_kv_pairs, self.seq_len)
        _require(self.seq_len % 2 == 0, self, f"seq_len={self.seq_len} must be even (key-value pairs)")

    @property
    def keys(self) -> range:
        return range(0, self.num_keys)

    @property
    def values(self) -> range:
        return range(self.num_keys, self.num_keys + self.num_values)

    @property
    def vocab_size(self) -> int:
        return self.num_keys + self.num_values


@dataclass(frozen=True)
class NoisyRecallConfig:
    """Associative recall with noise tokens interleaved (MAD's noisy in-context recall).

    Vocabulary (`vocab_size` = num_keys + num_values + num_noise_tokens):
        keys    [0, num_keys)
        values  [num_keys, num_keys + num_values)
        noise   [num_keys + num_values, vocab_size)
    Sequence: as `InContextRecallConfig` (context pairs, then query pairs), with single noise
    tokens, uniform over the noise ids, inserted between pairs (never between a key and its
    value) so that `noise_fraction` is the expected fraction of noise tokens. Room for the
    context and one query is always kept; a last odd position is filled with noise.
    Keys and values are distinct within a sequence, as in `InContextRecallConfig`.
    Probes: only the query keys; target = the key's value. Noise is never probed.
    mad-lab baseline: vocab 32 (16 noise), seq 128, noise fraction 0.2. mad-lab inserts noise
    in two-token chunks in place of pairs; single tokens here break the pair alignment.
    Here: the same vocabulary and noise fraction at seq 64.
    """

    seq_len: int = 64  # tokens per sequence
    num_keys: int = 8  # key tokens
    num_values: int = 8  # value tokens
    num_noise_tokens: int = 16  # noise tokens
    num_kv_pairs: int = 8  # context pairs per sequence (distinct keys)
    noise_fraction: float = 0.2  # expected fraction of noise tokens in a sequence

    def __post_init__(self) -> None:
        _check_recall_shape(self, self.num_keys, self.num_values, self.num_kv_pairs, self.seq_len)
        _require(0.0 <= self.noise_fraction < 1.0, self, f"noise_fraction={self.noise_fraction} must be in [0, 1)")
        _require(self.num_noise_tokens >= 1, self, f"num_noise_tokens={self.num_noise_tokens} must be >= 1")

    @property
    def keys(self) -> range:
        return range(0, self.num_keys)

    @property
    def values(self) -> range:
        return range(self.num_keys, self.num_keys + self.num_values)

    @property
    def noise(self) -> range:
        return range(self.num_keys + self.num_values, self.vocab_size)

    @property
    def vocab_size(self) -> int:
        return self.num_keys + self.num_values + self.num_noise_tokens


@dataclass(frozen=True)
class FuzzyRecallConfig:
    """Associative recall over multi-token keys and values (MAD's fuzzy in-context recall).

    Vocabulary (`vocab_size` = num_key_tokens + num_value_tokens + 1):
        key tokens    [0, num_key_tokens)
        value tokens  [num_key_tokens, num_key_tokens + num_value_tokens)
        pad           num_key_tokens + num_value_tokens
    A key is a motif of 1..max_key_motif distinct key tokens, a value one of 1..max_value_motif
    distinct value tokens (mad-lab's permutations): size uniform, then motif uniform within
    that size. Key and value tokens are disjoint, so a motif is a maximal run of one kind.
    Sequence: `num_kv_pairs` context pairs with distinct key motifs (values may repeat), then
    query pairs `key value(key)`, key uniform over the context pairs, while a whole pair fits;
    then pad to `seq_len`.
    Probes: every value token of a query pair; the target at the last key token is the first
    value token, the target at each value token but the last is the next value token.
    mad-lab baseline: vocab 16, seq 128, motif sizes up to 3. Here: up to 3 at seq 64 with
    6 context pairs (room for about 10 queries).
    """

    seq_len: int = 64  # tokens per sequence, padded at the end
    num_key_tokens: int = 8  # tokens keys are made of
    num_value_tokens: int = 8  # tokens values are made of
    max_key_motif: int = 3  # longest key, in tokens
    max_value_motif: int = 3  # longest value, in tokens
    num_kv_pairs: int = 6  # context pairs per sequence (distinct keys)

    def __post_init__(self) -> None:
        _require(1 <= self.max_key_motif <= self.num_key_tokens, self,
                 f"max_key_motif={self.max_key_motif} must be in [1, num_key_tokens={self.num_key_tokens}]")
        _require(1 <= self.max_value_motif <= self.num_value_tokens, self,
                 f"max_value_motif={self.max_value_motif} must be in [1, num_value_tokens={self.num_value_tokens}]")
        key_motifs = sum(math.perm(self.num_key_tokens, size) for size in range(1, self.max_key_motif + 1))
        _require(1 <= self.num_kv_pairs <= key_motifs, self,
                 f"num_kv_pairs={self.num_kv_pairs} must be in [1, {key_motifs}] (distinct key motifs)")
        longest = (self.num_kv_pairs + 1) * (self.max_key_motif + self.max_value_motif)
        _require(self.seq_len >= longest, self,
                 f"seq_len={self.seq_len} must be >= {longest} to fit the context and one query")

    @property
    def keys(self) -> range:
        return range(0, self.num_key_tokens)

    @property
    def values(self) -> range:
        return range(self.num_key_tokens, self.num_key_tokens + self.num_value_tokens)

    @property
    def pad(self) -> int:
        return self.num_key_tokens + self.num_value_tokens

    @property
    def vocab_size(self) -> int:
        return self.num_key_tokens + self.num_value_tokens + 1


@dataclass(frozen=True)
class SelectiveCopyingConfig:
    """Copy the scattered non-blank tokens, in order, after a copy signal (MAD's selective copying).

    Vocabulary (`vocab_size` = num_content_tokens + 2):
        content      [0, num_content_tokens)
        blank        num_content_tokens
        copy signal  num_content_tokens + 1
    Sequence: a prefix of seq_len - num_tokens_to_copy - 1 positions holding the tokens to
    copy (uniform with replacement) at random positions in order, blanks elsewhere; the copy
    signal; then num_tokens_to_copy blanks.
    Probes: the blanks after the signal, in order; targets = the copied tokens. The model never
    sees its own output (mad-lab's layout), so it must also track how far it has copied.
    mad-lab baseline: vocab 16, seq 256, 16 tokens to copy. Here: vocab 16 at seq 64 with 8
    tokens to copy (47 blanks in the prefix).
    """

    seq_len: int = 64  # tokens per sequence
    num_content_tokens: int = 14  # tokens that can be copied
    num_tokens_to_copy: int = 8  # tokens scattered in the prefix and copied

    def __post_init__(self) -> None:
        _require(self.num_content_tokens >= 1, self, f"num_content_tokens={self.num_content_tokens} must be >= 1")
        _require(self.num_tokens_to_copy >= 1, self, f"num_tokens_to_copy={self.num_tokens_to_copy} must be >= 1")
        shortest = 2 * self.num_tokens_to_copy + 2
        _require(self.seq_len >= shortest, self,
                 f"seq_len={self.seq_len} must be >= {shortest} (tokens, at least one blank, signal, outputs)")

    @property
    def content(self) -> range:
        return range(0, self.num_content_tokens)

    @property
    def blank(self) -> int:
        return self.num_content_tokens

    @property
    def copy_signal(self) -> int:
        return self.num_content_tokens + 1

    @property
    def vocab_size(self) -> int:
        return self.num_content_tokens + 2

    @property
    def prefix_len(self) -> int:
        """Positions before the copy signal."""
        return self.seq_len - self.num_tokens_to_copy - 1


@dataclass(frozen=True)
class CompressionConfig:
    """Read a sequence, then rebuild it after a reconstruct token (MAD's compression, causal form).

    Vocabulary (`vocab_size` = num_content_tokens + num_noise_tokens + 2):
        content      [0, num_content_tokens)
        noise        [num_content_tokens, num_content_tokens + num_noise_tokens)
        reconstruct  num_content_tokens + num_noise_tokens
        blank        num_content_tokens + num_noise_tokens + 1
    Sequence: n = seq_len / 2 content tokens (uniform), each replaced with probability
    `noise_fraction` by a noise token; the reconstruct token; n - 1 blanks.
    Probes: the reconstruct token and the blanks; the target at position n + i is the clean
    original token i, never the noise that replaced it in the input.
    Deviation from MAD: MAD squeezes the sequence into the last position and a small separate
    decoder rebuilds it from that one vector. A plain causal LM has no such decoder, so it
    rebuilds the sequence itself, one token per position after the reconstruct token, without
    seeing its own output. Attention can still look back at the inputs, so only models with a
    fixed-size state are held to compression proper; for the others this probes ordered recall.
    Noise: an input token replaced by noise is gone (tokens are independent), so by default
    (`probe_noised=False`, mad-lab's intent) its position is not probed; `probe_noised=True`
    probes it too, with the clean token as target (a chance-level probe). mad-lab's own code
    returns the noisy inputs as targets, dropping that mask: not copied here.
    mad-lab baseline: vocab 16, seq 32 (31 tokens squeezed). Here: 32 tokens rebuilt in 64
    positions, vocabulary 14 content + 1 noise + 2 special, noise off by default.
    """

    seq_len: int = 64  # tokens per sequence, even: seq_len / 2 tokens then their reconstruction
    num_content_tokens: int = 14  # tokens of the sequence to rebuild
    num_noise_tokens: int = 1  # tokens that replace noised inputs
    noise_fraction: float = 0.0  # probability that an input token is replaced by noise
    probe_noised: bool = False  # also probe positions whose input token was noised

    def __post_init__(self) -> None:
        _require(self.seq_len >= 4 and self.seq_len % 2 == 0, self, f"seq_len={self.seq_len} must be even and >= 4")
        _require(self.num_content_tokens >= 1, self, f"num_content_tokens={self.num_content_tokens} must be >= 1")
        _require(0.0 <= self.noise_fraction < 1.0, self, f"noise_fraction={self.noise_fraction} must be in [0, 1)")
        _require(self.num_noise_tokens >= (1 if self.noise_fraction > 0 else 0), self,
                 f"num_noise_tokens={self.num_noise_tokens} must be >= 1 when noise_fraction > 0")

    @property
    def content(self) -> range:
        return range(0, self.num_content_tokens)

    @property
    def noise(self) -> range:
        return range(self.num_content_tokens, self.num_content_tokens + self.num_noise_tokens)

    @property
    def reconstruct(self) -> int:
        return self.num_content_tokens + self.num_noise_tokens

    @property
    def blank(self) -> int:
        return self.num_content_tokens + self.num_noise_tokens + 1

    @property
    def vocab_size(self) -> int:
        return self.num_content_tokens + self.num_noise_tokens + 2

    @property
    def num_tokens(self) -> int:
        """Tokens to rebuild."""
        return self.seq_len // 2


@dataclass(frozen=True)
class MemorizationConfig:
    """Recall facts learned in training: a fixed global key -> value map (MAD's memorization).

    Vocabulary (`vocab_size` = num_keys + num_values):
        keys    [0, num_keys)
        values  [num_keys, num_keys + num_values)
    Facts: each key's value is drawn once, uniformly, from a generator seeded with
    `facts_seed` (see `memorization_facts`), never from the batch generator: every batch of
    one config shares the same facts, so they can only be learned into the weights.
    Sequence: seq_len / 2 pairs `k fact(k)`, keys uniform with replacement.
    Probes: every key; target = its fact value (also the next input).
    mad-lab baseline: vocab 256 (127 keys, 127 values, an insert token), seq 32, map seed 12345.
    Here: 64 keys and 64 values (vocab 128) at seq 32, the same seed.
    """

    seq_len: int = 32  # tokens per sequence, even
    num_keys: int = 64  # key tokens (facts)
    num_values: int = 64  # value tokens
    facts_seed: int = 12345  # seeds the key -> value map

    def __post_init__(self) -> None:
        _require(self.num_keys >= 1 and self.num_values >= 1, self, "num_keys and num_values must be >= 1")
        _require(self.seq_len >= 2 and self.seq_len % 2 == 0, self, f"seq_len={self.seq_len} must be even and >= 2")

    @property
    def keys(self) -> range:
        return range(0, self.num_keys)

    @property
    def values(self) -> range:
        return range(self.num_keys, self.num_keys + self.num_values)

    @property
    def vocab_size(self) -> int:
        return self.num_keys + self.num_values


TaskConfig = Union[InContextRecallConfig, FuzzyRecallConfig, NoisyRecallConfig, SelectiveCopyingConfig,
                   CompressionConfig, MemorizationConfig]


def _check_recall_shape(config: object, num_keys: int, num_values: int, num_pairs: int, seq_len: int) -> None:
    _require(1 <= num_pairs <= min(num_keys, num_values), config,
             f"num_kv_pairs={num_pairs} must be in [1, min(num_keys={num_keys}, num_values={num_values})] "
             "(keys and values are distinct within a sequence)")
    _require(seq_len >= 2 * num_pairs + 2, config,
             f"seq_len={seq_len} must be >= {2 * num_pairs + 2} to fit the context and one query")


# ----------------------------------------------------------------------------- generators


def make_in_context_recall_batch(config: InContextRecallConfig, num_sequences: int,
                                 generator: torch.Generator) -> TaskBatch:
    """In-context recall sequences; see `InContextRecallConfig`."""
    return _recall_batch(config.num_keys, config.num_values, config.num_kv_pairs, config.seq_len,
                         range(0), 0.0, num_sequences, generator)


def make_noisy_recall_batch(config: NoisyRecallConfig, num_sequences: int, generator: torch.Generator) -> TaskBatch:
    """Noisy in-context recall sequences; see `NoisyRecallConfig`."""
    return _recall_batch(config.num_keys, config.num_values, config.num_kv_pairs, config.seq_len,
                         config.noise, config.noise_fraction, num_sequences, generator)


def _recall_batch(num_keys: int, num_values: int, num_pairs: int, seq_len: int, noise: range,
                  noise_fraction: float, num_sequences: int, generator: torch.Generator) -> TaskBatch:
    n = num_sequences
    keys = torch.rand(n, num_keys, generator=generator).argsort(dim=1)[:, :num_pairs]  # distinct per row
    values = torch.rand(n, num_values, generator=generator).argsort(dim=1)[:, :num_pairs] + num_keys
    coins = torch.rand(n, seq_len, generator=generator)  # one per emission step, at most seq_len steps
    queries = torch.randint(num_pairs, (n, seq_len // 2), generator=generator)
    noise_tokens = (torch.randint(len(noise), (n, seq_len), generator=generator) + noise.start
                    if len(noise) else torch.zeros(n, seq_len, dtype=torch.long))
    # A step emits one noise token or one two-token pair; noise with probability q per step
    # makes the expected noise share of tokens q / (2 - q), which equals noise_fraction here.
    p_noise = 2 * noise_fraction / (1 + noise_fraction)
    rows = [_recall_row(list(zip(k, v)), c, q, z, seq_len, p_noise)
            for k, v, c, q, z in zip(keys.tolist(), values.tolist(), coins.tolist(), queries.tolist(),
                                     noise_tokens.tolist())]
    return _stack(rows, seq_len)


def _recall_row(pairs: list[tuple[int, int]], coins: list[float], queries: list[int], noise_tokens: list[int],
                seq_len: int, p_noise: float) -> tuple[list[int], list[int]]:
    """One recall sequence: context pairs, then query pairs, noise between pairs."""
    tokens: list[int] = []
    targets: list[int] = []
    context_done, queries_done, step = 0, 0, 0
    while len(tokens) < seq_len:
        remaining = seq_len - len(tokens)
        reserved = 2 * (len(pairs) - context_done) + 2  # rest of the context and one query
        if remaining == 1 or (remaining > reserved and coins[step] < p_noise):
            tokens.append(noise_tokens[step])
            targets.append(IGNORE_INDEX)
        elif context_done < len(pairs):
            tokens += pairs[context_done]
            targets += [IGNORE_INDEX, IGNORE_INDEX]
            context_done += 1
        else:
            key, value = pairs[queries[queries_done]]
            tokens += [key, value]
            targets += [value, IGNORE_INDEX]
            queries_done += 1
        step += 1
    return tokens, targets


@lru_cache(maxsize=None)
def _motifs(first: int, num_tokens: int, max_size: int) -> tuple[tuple[tuple[int, ...], ...], tuple[float, ...]]:
    """All motifs of 1..max_size distinct tokens from [first, first + num_tokens), and sampling
    weights that make the size uniform and the motif uniform within its size."""
    motifs: list[tuple[int, ...]] = []
    weights: list[float] = []
    for size in range(1, max_size + 1):
        sized = list(itertools.permutations(range(first, first + num_tokens), size))
        motifs += sized
        weights += [1.0 / len(sized)] * len(sized)
    return tuple(motifs), tuple(weights)


def make_fuzzy_recall_batch(config: FuzzyRecallConfig, num_sequences: int, generator: torch.Generator) -> TaskBatch:
    """Fuzzy in-context recall sequences; see `FuzzyRecallConfig`."""
    n, c = num_sequences, config
    key_motifs, key_weights = _motifs(c.keys.start, c.num_key_tokens, c.max_key_motif)
    value_motifs, value_weights = _motifs(c.values.start, c.num_value_tokens, c.max_value_motif)
    if n == 0:
        return _stack([], c.seq_len)
    keys = torch.multinomial(torch.tensor(key_weights).expand(n, -1), c.num_kv_pairs, replacement=False,
                             generator=generator)
    values = torch.multinomial(torch.tensor(value_weights).expand(n, -1), c.num_kv_pairs, replacement=True,
                               generator=generator)
    queries = torch.randint(c.num_kv_pairs, (n, c.seq_len // 2), generator=generator)  # a pair is >= 2 tokens
    rows = []
    for row_keys, row_values, row_queries in zip(keys.tolist(), values.tolist(), queries.tolist()):
        pairs = [(key_motifs[k], value_motifs[v]) for k, v in zip(row_keys, row_values)]
        rows.append(_fuzzy_row(pairs, row_queries, c.seq_len, c.pad))
    return _stack(rows, c.seq_len)


def _fuzzy_row(pairs: list[tuple[tuple[int, ...], tuple[int, ...]]], queries: list[int], seq_len: int,
               pad: int) -> tuple[list[int], list[int]]:
    tokens: list[int] = []
    targets: list[int] = []
    for key, value in pairs:
        tokens += key + value
        targets += [IGNORE_INDEX] * (len(key) + len(value))
    for query in queries:
        key, value = pairs[query]
        if len(tokens) + len(key) + len(value) > seq_len:
            break
        tokens += key + value
        targets += [IGNORE_INDEX] * (len(key) - 1) + list(value) + [IGNORE_INDEX]
    padding = seq_len - len(tokens)
    return tokens + [pad] * padding, targets + [IGNORE_INDEX] * padding


def make_selective_copying_batch(config: SelectiveCopyingConfig, num_sequences: int,
                                 generator: torch.Generator) -> TaskBatch:
    """Selective copying sequences; see `SelectiveCopyingConfig`."""
    n, c = num_sequences, config
    copied = torch.randint(c.num_content_tokens, (n, c.num_tokens_to_copy), generator=generator)
    positions = torch.rand(n, c.prefix_len, generator=generator).argsort(dim=1)[:, :c.num_tokens_to_copy]
    inputs = torch.full((n, c.seq_len), c.blank, dtype=torch.long)
    inputs.scatter_(1, positions.sort(dim=1).values, copied)
    inputs[:, c.prefix_len] = c.copy_signal
    targets = torch.full((n, c.seq_len), IGNORE_INDEX, dtype=torch.long)
    targets[:, c.prefix_len + 1:] = copied
    return TaskBatch(inputs, targets)


def make_compression_batch(config: CompressionConfig, num_sequences: int, generator: torch.Generator) -> TaskBatch:
    """Compression (rebuild) sequences; see `CompressionConfig`."""
    n, c, k = num_sequences, config, config.num_tokens
    clean = torch.randint(c.num_content_tokens, (n, k), generator=generator)
    noised = torch.rand(n, k, generator=generator) < c.noise_fraction
    if c.num_noise_tokens:
        noise = torch.randint(c.num_noise_tokens, (n, k), generator=generator) + c.noise.start
        shown = torch.where(noised, noise, clean)
    else:
        shown = clean
    inputs = torch.cat([shown, torch.full((n, 1), c.reconstruct), torch.full((n, k - 1), c.blank)], dim=1)
    probed = clean if c.probe_noised else clean.masked_fill(noised, IGNORE_INDEX)
    targets = torch.cat([torch.full((n, k), IGNORE_INDEX), probed], dim=1)
    return TaskBatch(inputs, targets)


@lru_cache(maxsize=64)
def _facts(num_keys: int, num_values: int, facts_seed: int) -> tuple[int, ...]:
    generator = torch.Generator().manual_seed(facts_seed)
    return tuple((torch.randint(num_values, (num_keys,), generator=generator) + num_keys).tolist())


def memorization_facts(config: MemorizationConfig) -> Tensor:
    """(num_keys,) int64: the value token of each key; a function of the config alone."""
    return torch.tensor(_facts(config.num_keys, config.num_values, config.facts_seed), dtype=torch.long)


def make_memorization_batch(config: MemorizationConfig, num_sequences: int, generator: torch.Generator) -> TaskBatch:
    """Memorization sequences over the config's fixed facts; see `MemorizationConfig`."""
    n, c = num_sequences, config
    keys = torch.randint(c.num_keys, (n, c.seq_len // 2), generator=generator)
    values = memorization_facts(c)[keys]
    inputs = torch.stack([keys, values], dim=2).reshape(n, c.seq_len)
    targets = torch.stack([values, torch.full_like(values, IGNORE_INDEX)], dim=2).reshape(n, c.seq_len)
    return TaskBatch(inputs, targets)


def _stack(rows: list[tuple[list[int], list[int]]], seq_len: int) -> TaskBatch:
    if not rows:
        return TaskBatch(torch.zeros(0, seq_len, dtype=torch.long), torch.zeros(0, seq_len, dtype=torch.long))
    tokens, targets = zip(*rows)
    return TaskBatch(torch.tensor(tokens, dtype=torch.long), torch.tensor(targets, dtype=torch.long))


# ----------------------------------------------------------------------------- registry


class Task(NamedTuple):
    """A task's config class and batch function; unpacks as `config_class, make_batch`."""

    config_class: type
    make_batch: Callable[..., TaskBatch]


TASKS: dict[str, Task] = {
    "in_context_recall": Task(InContextRecallConfig, make_in_context_recall_batch),
    "fuzzy_recall": Task(FuzzyRecallConfig, make_fuzzy_recall_batch),
    "noisy_recall": Task(NoisyRecallConfig, make_noisy_recall_batch),
    "selective_copying": Task(SelectiveCopyingConfig, make_selective_copying_batch),
    "compression": Task(CompressionConfig, make_compression_batch),
    "memorization": Task(MemorizationConfig, make_memorization_batch),
}


def task_name(config: TaskConfig) -> str:
    """The registry name of a task config."""
    for name, task in TASKS.items():
        if type(config) is task.config_class:
            return name
    raise TypeError(f"{type(config).__name__} is not a task config; known: "
                    f"{', '.join(t.config_class.__name__ for t in TASKS.values())}")


def make_batch(config: TaskConfig, num_sequences: int, generator: torch.Generator) -> TaskBatch:
    """`num_sequences` sequences of the task `config` belongs to, drawn from `generator`."""
    if num_sequences < 0:
        raise ValueError(f"num_sequences={num_sequences} must be >= 0")
    return TASKS[task_name(config)].make_batch(config, num_sequences, generator)


def vocab_size(config: TaskConfig) -> int:
    """Token ids of the task are in [0, vocab_size(config))."""
    return config.vocab_size


# ----------------------------------------------------------------------------- mixtures


@dataclass(frozen=True)
class MixtureLayout:
    """How several tasks share one vocabulary and one sequence length.

    Tasks are numbered in the order of the `configs` dict given (`task_ids` index `names`).
    Shared vocabulary:
        tag of task i   i                      for i in [0, T)
        pad             T
        task i's ids    offsets[i] + [0, vocab_size(config_i)), blocks back to back after pad
    Sequence: the tag, the task's sequence with its ids shifted by its offset (targets too),
    then pad to `seq_len` = 1 + the longest task sequence. Tag and pad are never probed.
    """

    names: tuple[str, ...]
    offsets: tuple[int, ...]
    task_lengths: tuple[int, ...]  # seq_len of each task
    seq_len: int
    vocab_size: int

    @property
    def pad(self) -> int:
        return len(self.names)


def mixture_layout(configs: dict[str, TaskConfig]) -> MixtureLayout:
    """The shared layout of `configs` (task name -> its config); see `MixtureLayout`."""
    if not configs:
        raise ValueError("a mixture needs at least one task config")
    offsets, next_id = [], len(configs) + 1  # tags, then pad
    for name, config in configs.items():
        if name not in TASKS or type(config) is not TASKS[name].config_class:
            raise ValueError(f"mixture entry {name!r}: {type(config).__name__} is not the config of a known task; "
                             f"known: {', '.join(f'{n} ({t.config_class.__name__})' for n, t in TASKS.items())}")
        offsets.append(next_id)
        next_id += config.vocab_size
    lengths = tuple(config.seq_len for config in configs.values())
    return MixtureLayout(names=tuple(configs), offsets=tuple(offsets), task_lengths=lengths,
                         seq_len=1 + max(lengths), vocab_size=next_id)


def mixture_vocab_size(configs: dict[str, TaskConfig]) -> int:
    """Size of the shared vocabulary of a mixture of `configs`."""
    return mixture_layout(configs).vocab_size


def make_mixture_batch(configs: dict[str, TaskConfig], num_sequences: int, generator: torch.Generator,
                       weights: dict[str, float] | None = None) -> tuple[TaskBatch, Tensor]:
    """A batch mixing the tasks of `configs`, and each sequence's task id (N,).

    Shares are equal, or proportional to `weights` (task name -> weight; missing names weigh
    1): each task gets floor(N * share) rows and the rows left over go to the largest
    remainders, ties to the earlier task. Draws, in this order: a permutation of the N rows
    (with equal shares, task ids are `arange(N) % T` permuted, so shares differ by at most
    one), then for each task in `configs` order the batch of its rows
    (`make_batch(config, count, generator)`), placed in increasing row order.
    """
    if num_sequences < 1:
        raise ValueError(f"num_sequences={num_sequences} must be >= 1")
    layout = mixture_layout(configs)
    if weights is None:
        ids = torch.arange(num_sequences) % len(configs)
    else:
        ids = torch.repeat_interleave(torch.arange(len(configs)), _weighted_counts(configs, weights, num_sequences))
    task_ids = ids[torch.randperm(num_sequences, generator=generator)]
    inputs = torch.full((num_sequences, layout.seq_len), layout.pad, dtype=torch.long)
    targets = torch.full((num_sequences, layout.seq_len), IGNORE_INDEX, dtype=torch.long)
    inputs[:, 0] = task_ids
    for i, config in enumerate(configs.values()):
        rows = (task_ids == i).nonzero().flatten()
        if len(rows) == 0:
            continue
        batch = make_batch(config, len(rows), generator)
        span = slice(1, 1 + config.seq_len)
        inputs[rows, span] = batch.inputs + layout.offsets[i]
        targets[rows, span] = torch.where(batch.probes, batch.targets + layout.offsets[i], IGNORE_INDEX)
    return TaskBatch(inputs, targets), task_ids


def _weighted_counts(configs: dict[str, TaskConfig], weights: dict[str, float], total: int) -> Tensor:
    """Rows per task in `configs` order, proportional to `weights` and summing to `total`."""
    unknown = set(weights) - set(configs)
    if unknown:
        raise ValueError(f"weights name task(s) {sorted(unknown)} that are not in the mixture {list(configs)}")
    raw = [float(weights.get(name, 1.0)) for name in configs]
    if any(w < 0 or not math.isfinite(w) for w in raw) or sum(raw) <= 0:
        raise ValueError(f"weights={weights!r} must be finite, >= 0 and not all 0")
    exact = [total * w / sum(raw) for w in raw]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(raw)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return torch.tensor(counts)


def split_mixture_batch(batch: TaskBatch, task_ids: Tensor, configs: dict[str, TaskConfig]) -> dict[str, TaskBatch]:
    """Undo `make_mixture_batch`: each task's rows, tag and pad dropped, in the task's own ids."""
    layout = mixture_layout(configs)
    split = {}
    for i, name in enumerate(layout.names):
        rows = task_ids == i
        span = slice(1, 1 + layout.task_lengths[i])
        inputs, targets = batch.inputs[rows, span], batch.targets[rows, span]
        split[name] = TaskBatch(inputs - layout.offsets[i],
                                torch.where(targets != IGNORE_INDEX, targets - layout.offsets[i], IGNORE_INDEX))
    return split


# ----------------------------------------------------------------------------- scoring


def probe_accuracy(logits: Tensor, targets: Tensor) -> float:
    """Fraction of probe positions (targets != IGNORE_INDEX) where argmax(logits) is the target.

    logits: (N, L, V); targets: (N, L). MAD's per-task score is this accuracy.
    """
    correct, probes = _probe_hits(logits, targets)
    return correct[probes].float().mean().item()


def sequence_accuracy(logits: Tensor, targets: Tensor) -> float:
    """Fraction of sequences with at least one probe whose probes are all right."""
    correct, probes = _probe_hits(logits, targets)
    probed = probes.any(dim=1)
    all_right = (correct | ~probes).all(dim=1)
    return all_right[probed].float().mean().item()


def _probe_hits(logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    if logits.dim() != 3 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits {tuple(logits.shape)} must be (N, L, V) over targets {tuple(targets.shape)}")
    probes = targets != IGNORE_INDEX
    if not probes.any():
        raise ValueError("targets hold no probe positions (all are IGNORE_INDEX)")
    return logits.argmax(dim=-1) == targets, probes
