"""The LIV search space as the design env sees it: genomes, flat edit actions, an evaluator.

Designs are `Genome`s at one width and head count (default the proxy scale the quality
evaluators train at, `PROXY_WIDTH` / `PROXY_HEADS`), edited through `ActionCodec`'s flat action table. Rewards come from one
fidelity (`livgym.rewards`) answered through an `EvaluationStore`, so a genome is evaluated once
per store whatever episode, env copy or process reaches it.

For searches that do not walk edits the space also answers `sample` (`sample_genome`'s
documented distribution), `features` (a fixed-length vector for surrogate models) and a dense
flat integer encoding (`livgym.envs.liv.encoding`: per slot a class among the space's and two
sharing labels, then the class-genome table with the genes this space fixes pinned; most
vectors within its bounds decode to a design, so model-based samplers can learn). The designs of
the space (`contains`) are the genomes the edits can make: at its width and heads, up to
`max_depth` slots of its classes, every class genome the registry's up to its hyperparameter
genes (expansion, repeat, window, kernel, short_conv).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from gymnasium import spaces

from livgym.envs.liv.actions import HYPERPARAMETER_GENES, ActionCodec
from livgym.envs.liv.arguments import check_space_arguments
from livgym.envs.liv.encoding import LIVEncoding
from livgym.envs.liv.features import gene_indices, genome_features, structure
from livgym.envs.memo import Memo
from livgym.envs.space import MODES, Evaluation, SearchSpace
from livgym.known_names import check_known
from livgym.models.cost import DEFAULT_CONTEXT_LENGTH, DEFAULT_VOCAB_SIZE, AdditiveCost, analytic_metrics, efficiency
from livgym.models.edits import apply_edit
from livgym.models.genes import PROXY_HEADS, PROXY_WIDTH
from livgym.models.genome import Genome, Slot
from livgym.models.reference import REFERENCE_GENOMES, reference_genome
from livgym.models.registry import CLASS_IDS, CLASSES_BY_ID, HYPERPARAMETER_CHOICES, ClassGenome
from livgym.models.sampling import sample_genome
from livgym.models.sharing import SharingLayout
from livgym.rewards.backends import EvaluationJob, EvaluatorIdentity, JobOutcome
from livgym.rewards.evaluation.evaluator import Evaluator, analytic_overrides, make_evaluator
from livgym.rewards.evaluation.result import EvaluationResult
from livgym.rewards.evaluation.store import EvaluationStore

#: per-slot observation features, in order (see `LIVSearchSpace.design_space`)
SLOT_FEATURES: tuple[str, ...] = ("liv_class", "featurizer_source", "feature_source", *HYPERPARAMETER_GENES)
DEFAULT_BUILD_START = "91111"  # one gated-MLP (SwiGLU) block: a working model with no token mixing
DEFAULT_FIDELITY = "zero-cost"  # milliseconds per design: the quickstart's; real searches name mad-lite


def _evaluation(result: EvaluationResult, cached: bool) -> Evaluation:
    """What the env is told about a stored result."""
    return Evaluation(result.metrics, result.status, cached, result.error,
                      {"fidelity": result.fidelity, "wall_time": result.wall_time})


class LIVSearchSpace(SearchSpace[Genome]):
    """LIV genomes up to `max_depth` slots, edited by `ActionCodec`, scored by one fidelity.

    Arguments:
        max_depth: most slots a genome may have (the action table grows linearly with it).
        width, heads: the model width and heads every design lives at (start genomes are moved
            to them); the analytic metrics are computed at this width.
        classes: LIV class ids that insert / replace actions offer (default: all 19).
        fidelity, fidelity_overrides: the evaluator (`livgym.rewards` fidelity name) and config
            overrides, as for `livgym evaluate --set`; the space's context_length and vocab_size
            are added to them, so leave those two to the space.
        store: path of the SQLite evaluation store; None keeps results in this process only.
        eval_seed: the seed of every evaluation (the same design always gets the same result).
        context_length, vocab_size: where the analytic params / cache / FLOPs are measured, for
            the budget masks, the observations and the evaluator's reward alike.
        build_start: the genome a build episode starts from (default one gated-MLP block).
        references, start_depth: the reference genomes an edit episode without a given start
            draws from, and their depth (default min(8, max_depth)).
    """

    name = "liv"

    def __init__(self, max_depth: int = 12, width: int = PROXY_WIDTH, heads: int = PROXY_HEADS,
                 classes: Sequence[int] | None = None, fidelity: str = DEFAULT_FIDELITY,
                 fidelity_overrides: Mapping[str, Any] | None = None, store: str | Path | None = None,
                 eval_seed: int = 0, context_length: int = DEFAULT_CONTEXT_LENGTH,
                 vocab_size: int = DEFAULT_VOCAB_SIZE,
                 build_start: str | Genome = DEFAULT_BUILD_START, references: Sequence[str] | None = None,
                 start_depth: int | None = None) -> None:
        check_space_arguments(max_depth=max_depth, width=width, heads=heads, classes=classes, fidelity=fidelity,
                         fidelity_overrides=fidelity_overrides, store=store, eval_seed=eval_seed,
                         context_length=context_length, vocab_size=vocab_size, build_start=build_start,
                         references=references, start_depth=start_depth)
        classes = tuple(int(c) for c in (CLASS_IDS if classes is None else classes))
        check_known(classes, list(CLASS_IDS), f"classes={list(classes)}", "LIV class id")
        if not classes:
            raise ValueError("classes must not be empty")
        self.references = tuple(REFERENCE_GENOMES if references is None else references)
        for name in self.references:
            if name not in REFERENCE_GENOMES:
                raise ValueError(f"references: unknown reference genome {name!r}; known: {', '.join(REFERENCE_GENOMES)}")
        start_depth = min(8, int(max_depth)) if start_depth is None else start_depth
        if not 1 <= start_depth <= max_depth:
            raise ValueError(f"start_depth={start_depth} must be in 1..max_depth={max_depth}")
        self.max_depth, self.width, self.heads = int(max_depth), int(width), int(heads)
        self.start_depth = int(start_depth)
        self.codec = ActionCodec(self.max_depth, classes)
        self.n_actions = self.codec.n
        self.context_length, self.vocab_size = int(context_length), int(vocab_size)
        self.fidelity = fidelity
        # The evaluator reports its analytic metrics at this space's setting (one setting for
        # masks, observations and rewards); the overrides carry it to backends' evaluators too.
        self.fidelity_overrides = analytic_overrides(fidelity, dict(fidelity_overrides or {}),
                                                     context_length=self.context_length, vocab_size=self.vocab_size)
        self.evaluator: Evaluator = make_evaluator(fidelity, **self.fidelity_overrides)
        self.eval_seed = int(eval_seed)
        self.store_path = None if store is None else str(store)
        self.build_start = self._fit(self.parse(build_start), "build_start")
        self._store: EvaluationStore | None = None
        self._reset_memos()

    def _reset_memos(self) -> None:
        self._masks: Memo[Genome, np.ndarray] = Memo()
        self._observations: Memo[Genome, dict[str, np.ndarray]] = Memo()
        self._metrics: Memo[Genome, dict[str, float]] = Memo()
        self._hashes: Memo[Genome, str] = Memo()
        self._texts: Memo[Genome, str] = Memo()
        # What the next `evaluate` of a design reports: a backend's outcome as it came (`accept`),
        # and, once reported, the same answer as a revisit (cached).
        self._results: Memo[str, Evaluation] = Memo(1 << 16)
        self._contributions: Memo[tuple[int, ClassGenome], AdditiveCost] = Memo()
        self._features: Memo[Genome, np.ndarray] = Memo()

    # -- episodes ------------------------------------------------------------------------

    def initial(self, mode: str, rng: np.random.Generator, start: Any = None) -> Genome:
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is not one of {MODES}")
        if start is not None:
            return self._fit(self.parse(start), "start genome")
        if mode == "build":
            return self.build_start
        name = self.references[int(rng.integers(len(self.references)))]
        return reference_genome(name, depth=self.start_depth, width=self.width, heads=self.heads)

    def _fit(self, genome: Genome, what: str) -> Genome:
        """`genome` at this space's width and heads, checked against `max_depth`."""
        if genome.depth > self.max_depth:
            raise ValueError(f"{what} {genome.to_string()!r} has depth {genome.depth} > max_depth={self.max_depth}")
        try:
            return genome.with_width(self.width, self.heads)
        except ValueError as err:
            raise ValueError(f"{what} {genome.to_string()!r} at width={self.width}, heads={self.heads}: {err}") from None

    def apply(self, genome: Genome, action: int) -> Genome | None:
        # The rule-based mask (memoised per genome) decides validity: it costs about as much as
        # re-validating one edited genome, is reused by every other action tried from the same
        # genome (an unmasked agent stays put after an invalid one), and lets a valid edit skip
        # re-validation.
        if not self.mask(genome)[action]:
            return None
        edit = self.codec.decode(action, genome)
        if edit is None:
            raise ValueError("action 0 (stop) is the environment's, not an edit")
        return apply_edit(genome, edit, self.max_depth, known_valid=True)

    def mask(self, genome: Genome) -> np.ndarray:
        return self._masks.get(genome, lambda: self.codec.mask(genome))

    def at_capacity(self, genome: Genome) -> bool:
        return genome.depth >= self.max_depth

    # -- observations ----------------------------------------------------------------------

    def design_space(self) -> spaces.Dict:
        per_slot = [max(CLASS_IDS) + 1, self.max_depth, self.max_depth,
                    *(len(HYPERPARAMETER_CHOICES[g]) + 1 for g in HYPERPARAMETER_GENES)]
        return spaces.Dict({
            "slots": spaces.MultiDiscrete(np.tile(per_slot, self.max_depth).astype(np.int64)),
            "slot_mask": spaces.MultiBinary(self.max_depth),
        })

    def observe(self, genome: Genome) -> dict[str, np.ndarray]:
        return self._observations.get(genome, lambda: self._observe(genome))

    def _observe(self, genome: Genome) -> dict[str, np.ndarray]:
        features = np.zeros((self.max_depth, len(SLOT_FEATURES)), dtype=np.int64)
        layout = SharingLayout.of(genome.slots)
        for p, slot in enumerate(genome.slots):
            features[p, :3] = (slot.liv_class, p - layout.featurizer.producer(p), p - layout.feature.producer(p))
            features[p, 3:] = gene_indices(genome.slot_genome(p))
        slot_mask = np.zeros(self.max_depth, dtype=np.int8)
        slot_mask[: genome.depth] = 1
        return {"slots": features.reshape(-1), "slot_mask": slot_mask}

    # -- identity ----------------------------------------------------------------------------

    def key(self, genome: Genome) -> str:
        return self._hashes.get(genome, genome.canonical_hash)

    def describe(self, genome: Genome) -> str:
        return self._texts.get(genome, genome.to_string)

    def parse(self, value: Any) -> Genome:
        if isinstance(value, Genome):
            return value
        if isinstance(value, str):
            return Genome.from_string(value)
        raise ValueError(f"a genome must be a Genome or its string form, got {type(value).__name__}: {value!r}")

    def describe_action(self, action: int) -> str:
        return self._action_names[action]

    def render(self, genome: Genome) -> np.ndarray:
        """The genome's block diagram (`livgym.models.diagram`) laid out for `max_depth` slots, so
        every design of the space makes a frame of one size; the last few frames are kept, as
        an episode shows the same design over many steps. Read-only: frames are shared."""
        from livgym.models.diagram import genome_rgb  # matplotlib loads only for a rendering env

        def draw() -> np.ndarray:
            frame = genome_rgb(genome, columns=self.max_depth)
            frame.flags.writeable = False
            return frame

        frames: Memo[Genome, np.ndarray] = self.__dict__.setdefault("_frames", Memo(8))
        return frames.get(genome, draw)

    @property
    def _action_names(self) -> list[str]:
        if "_names" not in self.__dict__:
            self.__dict__["_names"] = [self.codec.describe(a) for a in range(self.n_actions)]
        return self.__dict__["_names"]

    # -- metrics -----------------------------------------------------------------------------

    def cheap_metrics(self, genome: Genome) -> dict[str, float]:
        return self._metrics.get(genome, lambda: analytic_metrics(genome, self.context_length, self.vocab_size))

    def evaluate(self, genome: Genome) -> Evaluation:
        key = self.key(genome)
        evaluation = self._results.peek(key)
        if evaluation is None:
            result, cached = self.store.evaluate_cached(self.evaluator, genome, self.eval_seed)
            evaluation = _evaluation(result, cached)
        self._results.put(key, replace(evaluation, cached=True))
        return evaluation

    def job(self, genome: Genome) -> EvaluationJob | None:
        key = self.key(genome)
        if self._results.peek(key) is not None:
            return None
        return EvaluationJob(self.fidelity, self.describe(genome), self.eval_seed,
                             tuple(sorted(self.fidelity_overrides.items())), genome_hash=key,
                             evaluator=self._evaluator_identity)

    def accept(self, genome: Genome, outcome: JobOutcome) -> None:
        result, identity = outcome.result, self._evaluator_identity
        if result.key != (self.key(genome), identity.name, identity.config_hash, self.eval_seed):
            raise ValueError(f"outcome for {result.genome!r} ({result.evaluator}, config {result.config_hash}, "
                             f"seed {result.seed}) is not this space's evaluation of {self.describe(genome)!r}")
        self.store.put(result)  # a no-op when the backend shares this store; else this store learns it
        self._results.put(self.key(genome), _evaluation(result, outcome.from_store))

    @property
    def _evaluator_identity(self) -> EvaluatorIdentity:
        """The evaluator's name, config and hash as every job records them (worked out once)."""
        if "_identity" not in self.__dict__:
            self.__dict__["_identity"] = EvaluatorIdentity.of(self.evaluator)
        return self.__dict__["_identity"]

    @property
    def store(self) -> EvaluationStore:
        """The evaluation store, opened on first use (so the space pickles and forks cleanly)."""
        if self._store is None:
            self._store = EvaluationStore(self.store_path or ":memory:")
        return self._store

    def constrained_mask(self, genome: Genome, allowed: Callable[[Mapping[str, float], Mapping[str, float]], bool]
                         ) -> np.ndarray:
        """Exact, without building most candidates: inserting an independent slot, and
        replacing or removing a slot that shares nothing, change the additive costs by that
        slot's own contribution; every other valid edit is applied and costed."""
        mask = self.mask(genome).copy()
        current = self.cheap_metrics(genome)
        totals = self._totals(genome)
        alone = self._isolated(genome)
        k = len(self.codec.classes)
        for action in np.flatnonzero(mask[1:]) + 1:
            block, i = self.codec.block_of(int(action))
            if block == "insert":
                candidate = (totals + self._contribution(genome, self.codec.classes[i % k])).metrics()
            elif block == "replace" and alone[i // k]:
                p = i // k
                candidate = (totals - self._contribution(genome, genome.slots[p].liv_class)
                             + self._contribution(genome, self.codec.classes[i % k])).metrics()
            elif block == "remove" and alone[i]:
                candidate = (totals - self._contribution(genome, genome.slots[i].liv_class)).metrics()
            else:
                result = self.apply(genome, int(action))
                candidate = self.cheap_metrics(result) if result is not None else None
            mask[action] = candidate is not None and allowed(current, candidate)
        return mask

    def _totals(self, genome: Genome) -> AdditiveCost:
        return efficiency(genome, context_length=self.context_length, vocab_size=self.vocab_size).additive()

    def _contribution(self, genome: Genome, class_id: int) -> AdditiveCost:
        """What one independent slot of `class_id` (with this genome's class genome) adds."""
        cg = genome.class_genome(class_id)

        def compute() -> AdditiveCost:
            one = Genome((Slot(class_id),), self.width, self.heads, genome.class_overrides)
            two = Genome((Slot(class_id), Slot(class_id)), self.width, self.heads, genome.class_overrides)
            return self._totals(two) - self._totals(one)

        return self._contributions.get((class_id, cg), compute)

    @staticmethod
    def _isolated(genome: Genome) -> list[bool]:
        """Per slot: it owns its featurizer and features and no other slot uses them."""
        layout = SharingLayout.of(genome.slots)
        return [layout.featurizer.alone(p) and layout.feature.alone(p) for p in range(genome.depth)]

    # -- for searches that do not walk edits ---------------------------------------------------

    def contains(self, genome: Genome) -> bool:
        """Whether `genome` is one the edits can make (up to the canonical form): this space's
        width and heads, at most `max_depth` slots, slot classes among the space's, and every used
        class genome the registry's but for its hyperparameter genes."""
        if (genome.width, genome.heads) != (self.width, self.heads) or genome.depth > self.max_depth:
            return False
        classes = set(self.codec.classes)
        if any(s.liv_class not in classes for s in genome.slots):
            return False
        return all(structure(genome.class_genome(c)) == structure(CLASSES_BY_ID[c].genome)
                   for c in genome.used_classes())

    def sample(self, rng: np.random.Generator) -> Genome:
        """`livgym.models.sampling.sample_genome` over this space's classes, depth 1..max_depth,
        at its width and heads, with registry class genomes (see its docstring)."""
        return sample_genome(rng, self.codec.classes, self.width, self.heads, self.max_depth)

    def features(self, genome: Genome) -> np.ndarray:
        """A float64 vector of fixed length for this space (read-only; memoised):

        - per slot position 0..max_depth-1: a one-hot over (empty, each of the space's classes,
          "other") of the slot's class genome (`_class_column`: what it builds, not its id), the
          distances to the slot's featurizer and feature producers / max_depth, and each
          hyperparameter gene's choice index / table size (0 where the class ignores the gene);
        - a histogram of the slots' class columns (counts / max_depth), blind to slot order;
        - depth / max_depth;
        - log10(1 + value) of each cheap (analytic) metric, by name in sorted order.

        Everything is read from the canonical genome, so designs with equal `key` get equal
        vectors.
        """
        return self._features.get(genome, lambda: self._featurize(genome))

    def _featurize(self, genome: Genome) -> np.ndarray:
        return genome_features(genome, self.codec.classes, self.max_depth, self.cheap_metrics(genome),
                               self._feature_metrics)

    @property
    def _feature_metrics(self) -> tuple[str, ...]:
        """The cheap metrics `features` reads, by name (those of the build start: a fixed set)."""
        if "_metric_names" not in self.__dict__:
            self.__dict__["_metric_names"] = tuple(sorted(self.cheap_metrics(self.build_start)))
        return self.__dict__["_metric_names"]

    # The flat encoding (`livgym.envs.liv.encoding`: its docstring documents every gene).

    @property
    def encoding(self) -> LIVEncoding:
        """The space's dense flat encoding (made once per copy)."""
        encoding = self.__dict__.get("_encoding")
        if encoding is None:
            encoding = self.__dict__["_encoding"] = LIVEncoding(self.max_depth, self.codec.classes, self.width,
                                                                self.heads, self._free_hyperparameters)
        return encoding

    #: whether the class-genome table's hyperparameter genes are free (LIV-Bench pins them)
    _free_hyperparameters = True

    def encoding_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per slot a class gene (0 = empty, k = the space's k-th class; slot 0 never empty) and
        a featurizer and a feature label gene (0..max_depth // 2), then the class-genome table
        with every gene the space fixes pinned (see `livgym.envs.liv.encoding`)."""
        low, high = self.encoding.bounds
        return low.copy(), high.copy()

    def encode(self, genome: Genome) -> np.ndarray:
        """The one canonical vector of the genome's key (see `livgym.envs.liv.encoding`)."""
        if not self.contains(genome):
            raise ValueError(f"genome {genome.to_string()!r} is not a design of {self!r}")
        return self.encoding.encode(genome)

    def decode(self, vector: Sequence[int]) -> Genome | None:
        """The genome the vector encodes, ignoring the genes of empty slots, of slots after the
        first empty one, of classes no slot uses and the labels a class cannot use; None when
        the vector is outside `encoding_bounds()` or encodes no design of this space (a sharing
        the rules forbid, an unbuildable class genome, a genome the space does not contain)."""
        genome = self.encoding.decode(vector)
        return genome if genome is not None and self.contains(genome) else None

    def crossover_points(self) -> np.ndarray:
        """Slot boundaries: before slots 1..max_depth-1, and between the last slot and the
        class-genome table."""
        return self.encoding.crossover_points()

    def designs(self) -> None:
        """None: the space is far too large to list."""
        return None

    # -- the env's defaults ----------------------------------------------------------------------

    def objective_overrides(self, objectives: Sequence[Any]) -> dict[str, dict[str, Any]]:
        """The fidelity's reference points for its own metrics (`Evaluator.objective_overrides`:
        a zero-cost proxy's quality range), for the objectives given by name."""
        names = [o for o in objectives if isinstance(o, str)] if isinstance(objectives, (list, tuple)) else []
        return {name: dict(fields) for name, fields in self.evaluator.objective_overrides().items() if name in names}

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __getstate__(self) -> dict[str, Any]:
        # Connections and memos stay behind: a copy (SubprocVecEnv, pickle) opens its own.
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._store = None
        self._reset_memos()

    def __repr__(self) -> str:
        return (f"LIVSearchSpace(max_depth={self.max_depth}, width={self.width}, heads={self.heads}, "
                f"classes={len(self.codec.classes)}, fidelity={self.fidelity!r}, store={self.store_path!r})")
