"""The recall tasks: in-context, noisy and fuzzy associative recall (MAD's three recall tasks)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import torch

from livgym.rewards.training.tasks.batch import IGNORE_INDEX, TaskBatch, require, stack_rows


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
        require(self.seq_len % 2 == 0, self, f"seq_len={self.seq_len} must be even (key-value pairs)")

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
        require(0.0 <= self.noise_fraction < 1.0, self, f"noise_fraction={self.noise_fraction} must be in [0, 1)")
        require(self.num_noise_tokens >= 1, self, f"num_noise_tokens={self.num_noise_tokens} must be >= 1")

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
        require(1 <= self.max_key_motif <= self.num_key_tokens, self,
                 f"max_key_motif={self.max_key_motif} must be in [1, num_key_tokens={self.num_key_tokens}]")
        require(1 <= self.max_value_motif <= self.num_value_tokens, self,
                 f"max_value_motif={self.max_value_motif} must be in [1, num_value_tokens={self.num_value_tokens}]")
        key_motifs = sum(math.perm(self.num_key_tokens, size) for size in range(1, self.max_key_motif + 1))
        require(1 <= self.num_kv_pairs <= key_motifs, self,
                 f"num_kv_pairs={self.num_kv_pairs} must be in [1, {key_motifs}] (distinct key motifs)")
        longest = (self.num_kv_pairs + 1) * (self.max_key_motif + self.max_value_motif)
        require(self.seq_len >= longest, self,
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


def _check_recall_shape(config: object, num_keys: int, num_values: int, num_pairs: int, seq_len: int) -> None:
    require(1 <= num_pairs <= min(num_keys, num_values), config,
             f"num_kv_pairs={num_pairs} must be in [1, min(num_keys={num_keys}, num_values={num_values})] "
             "(keys and values are distinct within a sequence)")
    require(seq_len >= 2 * num_pairs + 2, config,
             f"seq_len={seq_len} must be >= {2 * num_pairs + 2} to fit the context and one query")


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
    return stack_rows(rows, seq_len)


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
        return stack_rows([], c.seq_len)
    keys = torch.multinomial(torch.tensor(key_weights).expand(n, -1), c.num_kv_pairs, replacement=False,
                             generator=generator)
    values = torch.multinomial(torch.tensor(value_weights).expand(n, -1), c.num_kv_pairs, replacement=True,
                               generator=generator)
    queries = torch.randint(c.num_kv_pairs, (n, c.seq_len // 2), generator=generator)  # a pair is >= 2 tokens
    rows = []
    for row_keys, row_values, row_queries in zip(keys.tolist(), values.tolist(), queries.tolist()):
        pairs = [(key_motifs[k], value_motifs[v]) for k, v in zip(row_keys, row_values)]
        rows.append(_fuzzy_row(pairs, row_queries, c.seq_len, c.pad))
    return stack_rows(rows, c.seq_len)


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
