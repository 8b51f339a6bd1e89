"""The copying tasks: rebuild tokens seen earlier in the sequence (selective copying, compression)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from livgym.rewards.training.tasks.batch import IGNORE_INDEX, TaskBatch, require


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
        require(self.num_content_tokens >= 1, self, f"num_content_tokens={self.num_content_tokens} must be >= 1")
        require(self.num_tokens_to_copy >= 1, self, f"num_tokens_to_copy={self.num_tokens_to_copy} must be >= 1")
        shortest = 2 * self.num_tokens_to_copy + 2
        require(self.seq_len >= shortest, self,
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
        require(self.seq_len >= 4 and self.seq_len % 2 == 0, self, f"seq_len={self.seq_len} must be even and >= 4")
        require(self.num_content_tokens >= 1, self, f"num_content_tokens={self.num_content_tokens} must be >= 1")
        require(0.0 <= self.noise_fraction < 1.0, self, f"noise_fraction={self.noise_fraction} must be in [0, 1)")
        require(self.num_noise_tokens >= (1 if self.noise_fraction > 0 else 0), self,
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
