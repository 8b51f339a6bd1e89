"""The search-space protocol's answers for searches that do not walk edits (`sample`,
`features`, `designs`, the flat encoding) on the LIV space, LIV-Bench and a user's table, and
the random baselines built on them."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import chisquare

from livgym.controllers.methods.baselines import EvolutionParams, RandomSearchParams, random_search, regularized_evolution
from livgym.controllers.budget import SearchTracker
from livgym.controllers.methods.contract import SearchContext
from livgym.controllers.methods.walks import plan_random_episode, replay
from livgym.envs.design_env import DesignEnv
from livgym.envs.liv.space import LIVSearchSpace
from livgym.envs.build import build_env
from livgym.envs.livbench.bench import LIVBenchSpace
from livgym.envs.tables.space import TableSearchSpace
from livgym.models.genome import Genome, Slot
from livgym.models.registry import CLASSES_BY_ID
from livgym.models.sampling import sample_genome

OBJECTIVES = ["params", "cache_bytes"]  # known to every space here without a trained evaluator


def liv_space() -> LIVSearchSpace:
    return LIVSearchSpace(max_depth=4, fidelity="analytic")


def table_space() -> TableSearchSpace:
    table = {(a, b, c): {"params": 1e4 * (1 + a + b), "cache_bytes": 1e3 * (1 + c)}
             for a in range(3) for b in range(2) for c in range(4) if (a, b, c) != (2, 1, 3)}
    return TableSearchSpace(table, choices=(3, 2, 4))


SPACES = {"liv": liv_space, "livbench": LIVBenchSpace, "table": table_space}


@pytest.fixture(scope="module", params=list(SPACES))
def space(request):
    return SPACES[request.param]()


def draws(space, seed: int, n: int = 40) -> list:
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def test_samples_are_designs_of_the_space_and_env_starts_and_deterministic_for_a_seed(space):
    samples = draws(space, 0)
    assert [space.key(d) for d in samples] == [space.key(d) for d in draws(space, 0)]
    assert [space.key(d) for d in samples] != [space.key(d) for d in draws(space, 1)]
    env = DesignEnv(space, objectives=OBJECTIVES)
    for design in samples:
        assert space.contains(design), space.describe(design)
        env.reset(options={"mode": "edit", "start": design})
        assert space.key(env.unwrapped.design) == space.key(design)


def test_liv_samples_follow_the_documented_distribution():
    space = LIVSearchSpace(max_depth=4, fidelity="analytic", classes=[1, 5, 7, 9])
    samples = draws(space, 2, 2000)
    depths = Counter(g.depth for g in samples)
    assert set(depths) == {1, 2, 3, 4} and min(depths.values()) > 400, depths  # uniform depth
    classes = Counter(s.liv_class for g in samples for s in g.slots)
    assert set(classes) == {1, 5, 7, 9} and max(classes.values()) < 1.2 * min(classes.values()), classes
    assert all(not g.class_overrides for g in samples), "class genomes stay the registry's"
    assert sum(any(s.shares_featurizer for s in g.slots) for g in samples) > 200
    assert sum(any(s.shares_features for s in g.slots) for g in samples) > 100


def test_the_sampler_checks_its_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="max_depth=0"):
        sample_genome(rng, (1,), 64, 4, 0)
    with pytest.raises(ValueError, match=r"unknown LIV class id\(s\) \[42\]"):
        sample_genome(rng, (1, 42), 64, 4, 2)
    with pytest.raises(ValueError, match="min_depth=3 must be at most max_depth=2"):
        sample_genome(rng, (1,), 64, 4, 2, min_depth=3)


def test_livbench_sampling_is_uniform_over_its_rows_and_designs_lists_each_row_once():
    space = LIVBenchSpace()
    designs = space.designs()
    keys = [space.key(d) for d in designs]
    assert keys == sorted(space.index.genomes) and len(set(keys)) == len(keys) == len(space.index.genomes)
    position = {k: i for i, k in enumerate(keys)}
    rng = np.random.default_rng(0)
    counts = np.bincount([position[space.key(space.sample(rng))] for _ in range(10 * len(keys))],
                         minlength=len(keys))
    assert chisquare(counts).pvalue > 1e-3, "draws are not uniform over the rows"
    assert LIVSearchSpace(max_depth=2, fidelity="analytic").designs() is None


def test_features_have_a_fixed_length_are_finite_and_tell_designs_apart(space):
    samples = draws(space, 3, 60)
    vectors = [space.features(d) for d in samples]
    assert {v.shape for v in vectors} == {vectors[0].shape} and vectors[0].dtype == np.float64
    assert all(np.all(np.isfinite(v)) for v in vectors)
    by_key = {}
    for design, vector in zip(samples, vectors):
        by_key.setdefault(space.key(design), []).append(vector)
    for same in by_key.values():
        assert all(np.array_equal(same[0], v) for v in same)
    distinct = {v.tobytes() for v in vectors}
    assert len(distinct) >= 0.9 * len(by_key), "features confuse many different designs"


def test_every_livbench_row_gets_its_own_features():
    space = LIVBenchSpace()
    vectors = {space.features(d).tobytes() for d in space.designs()}
    assert len(vectors) >= 0.99 * len(space.designs())


def test_liv_features_are_equal_for_equal_keys():
    space = LIVSearchSpace(max_depth=4, fidelity="analytic")
    w, h = space.width, space.heads
    sa1 = CLASSES_BY_ID[1].genome
    pairs = [
        # sharing group numbers are only names
        (Genome((Slot(1, 3, 2), Slot(1, 3, 2), Slot(9)), w, h), Genome((Slot(1, 1, 2), Slot(1, 1, 2), Slot(9)), w, h)),
        # a group of one is no sharing
        (Genome((Slot(5, 1, 1, 4, 2), Slot(9)), w, h), Genome((Slot(5), Slot(9)), w, h)),
        # a gene the class ignores changes nothing
        (Genome((Slot(1),), w, h, ((1, replace(sa1, window=128)),)), Genome((Slot(1),), w, h)),
        # SA-3 given repeat 1 builds SA-1
        (Genome((Slot(3), Slot(9)), w, h, ((3, replace(CLASSES_BY_ID[3].genome, repeat=1)),)),
         Genome((Slot(1), Slot(9)), w, h)),
    ]
    for a, b in pairs:
        assert space.key(a) == space.key(b), (a, b)
        assert np.array_equal(space.features(a), space.features(b)), (a, b)
    assert not np.array_equal(space.features(pairs[0][0]), space.features(pairs[1][0]))


def test_encode_decode_round_trip_within_bounds(space):
    low, high = space.encoding_bounds()
    assert low.dtype == high.dtype == np.int64 and low.shape == high.shape and np.all(low <= high)
    for design in draws(space, 4):
        vector = space.encode(design)
        assert vector.shape == low.shape and np.all((low <= vector) & (vector <= high))
        decoded = space.decode(vector)
        assert decoded is not None and space.key(decoded) == space.key(design)


def test_decoding_any_vector_within_bounds_gives_none_or_a_design_of_the_space(space):
    low, high = space.encoding_bounds()
    rng = np.random.default_rng(5)
    designs = draws(space, 5, 20)
    found = 0
    for design in designs:
        vector = space.encode(design)
        for _ in range(10):  # near a design, where decoding often succeeds
            mutant = vector.copy()
            genes = rng.choice(len(low), size=2, replace=False)
            mutant[genes] = rng.integers(low[genes], high[genes] + 1)
            decoded = space.decode(mutant)
            found += decoded is not None
            assert decoded is None or space.contains(decoded)
    for _ in range(200):  # anywhere
        decoded = space.decode(rng.integers(low, high + 1))
        assert decoded is None or space.contains(decoded)
    assert found >= 50
    assert space.decode(high + 1) is None and space.decode(low[:-1]) is None


def test_liv_encoding_pins_what_the_space_fixes_and_cuts_at_slot_boundaries():
    space = LIVSearchSpace(max_depth=3, fidelity="analytic", classes=[1, 5, 9])
    low, high = space.encoding_bounds()
    assert low[0] == high[0] and low[1] == high[1], "width and heads are the space's"
    slots = np.array([2, 5, 8])
    assert list(low[slots]) == [1, 0, 0] and list(high[slots]) == [3, 3, 3], "class genes index the space's 3 classes"
    assert list(high[slots + 1]) == list(high[slots + 2]) == [1, 1, 1], "labels 0..max_depth // 2"
    vector = space.encode(Genome((Slot(5), Slot(9)), space.width, space.heads))
    assert list(vector[slots]) == [2, 3, 0]
    vector[5] = 1
    assert space.decode(vector) == Genome((Slot(5), Slot(1)), space.width, space.heads)
    assert not space.contains(Genome((Slot(7),), space.width, space.heads))
    assert not space.contains(Genome((Slot(1),), 128, 4))
    with pytest.raises(ValueError, match="is not a design of"):
        space.encode(Genome((Slot(7),), space.width, space.heads))
    assert list(space.crossover_points()) == [5, 8, 11]
    sa1 = 2 + 3 * 3  # class 1's table genes: only its used hyperparameters are free
    free = {i - sa1 for i in np.flatnonzero(low < high) if sa1 <= i < sa1 + 11}
    assert free == {5, 6, 7}, "expansion, repeat, short_conv"
    assert high[sa1 + 6] == 3, "repeat 8 does not divide 4 heads: the bounds leave it out"
    gconv = sa1 + 11 * 6  # class 7, outside the space: pinned whole
    assert np.array_equal(low[gconv:gconv + 11], high[gconv:gconv + 11])
    bench = LIVBenchSpace()
    low, high = bench.encoding_bounds()
    assert np.array_equal(low[2 + 3 * bench.max_depth:], high[2 + 3 * bench.max_depth:]), "class genes pinned"
    assert int(np.sum(low < high)) == 12


def uniform_vectors(space, n: int, seed: int = 0) -> list[np.ndarray]:
    low, high = space.encoding_bounds()
    rng = np.random.default_rng(seed)
    return [rng.integers(low, high + 1) for _ in range(n)]


@pytest.mark.parametrize("make", [LIVBenchSpace, lambda: LIVSearchSpace(max_depth=8, fidelity="analytic")],
                         ids=["livbench", "liv8"])
def test_most_uniform_vectors_decode_and_encode_is_canonical_for_them(make):
    # The old encoding (Genome.to_vector) decoded none of 20,000 such vectors on either space.
    space = make()
    decoded = [d for d in map(space.decode, uniform_vectors(space, 2000)) if d is not None]
    assert len(decoded) > 0.5 * 2000, len(decoded)
    for design in decoded[:300]:
        assert space.contains(design)
        vector = space.encode(design)
        again = space.decode(vector)
        assert again is not None and space.key(again) == space.key(design)
        assert np.array_equal(space.encode(again), vector), "one vector per key"
    if isinstance(space, LIVBenchSpace):
        assert all(space.key(d) in space.index.genomes for d in decoded), "LIV-Bench decodes to rows only"
        assert len({space.key(d) for d in decoded}) > 500


def test_every_livbench_row_round_trips_and_gets_its_own_vector():
    space = LIVBenchSpace()
    vectors = set()
    for design in space.designs():
        vector = space.encode(design)
        decoded = space.decode(vector)
        assert decoded is not None and space.key(decoded) == space.key(design), space.describe(design)
        vectors.add(vector.tobytes())
    assert len(vectors) == len(space.designs())


def test_liv_designs_with_hyperparameter_edits_round_trip_and_equal_keys_encode_alike():
    space = LIVSearchSpace(max_depth=6, fidelity="analytic")
    rng = np.random.default_rng(7)
    vectors: dict[str, set[bytes]] = {}
    edited = 0
    for _ in range(60):  # samples, then random valid edits (hyperparameter steps among them)
        genome = space.sample(rng)
        for _ in range(5):
            genome = space.apply(genome, int(rng.choice(np.flatnonzero(space.mask(genome)[1:]) + 1)))
        edited += bool(genome.canonical().class_overrides)
        vector = space.encode(genome)
        decoded = space.decode(vector)
        assert decoded is not None and space.key(decoded) == space.key(genome), space.describe(genome)
        vectors.setdefault(space.key(genome), set()).add(vector.tobytes())
    assert edited >= 10
    w, h, c = space.width, space.heads, CLASSES_BY_ID
    pairs = [
        (Genome((Slot(1, 3, 2), Slot(1, 3, 2), Slot(9)), w, h), Genome((Slot(1, 1, 2), Slot(1, 1, 2), Slot(9)), w, h)),
        (Genome((Slot(5, 1, 1, 4, 2), Slot(9)), w, h), Genome((Slot(5), Slot(9)), w, h)),
        (Genome((Slot(3), Slot(9)), w, h, ((3, replace(c[3].genome, repeat=1)),)), Genome((Slot(1), Slot(9)), w, h)),
        # two class ids with one genome share a featurizer: encoded as one class
        (Genome((Slot(1, 1, 2), Slot(3, 1, 2)), w, h, ((3, replace(c[3].genome, repeat=1)),)),
         Genome((Slot(1, 1, 2), Slot(1, 1, 2)), w, h)),
    ]
    for a, b in pairs:
        assert space.key(a) == space.key(b)
        assert np.array_equal(space.encode(a), space.encode(b)), (a, b)


def test_dont_care_genes_are_ignored_and_forbidden_sharing_decodes_to_none():
    space = LIVSearchSpace(max_depth=4, fidelity="analytic", classes=[1, 5, 9])
    w, h = space.width, space.heads
    genome = Genome((Slot(1, 1, 2, 1, 2), Slot(1, 1, 1, 1, 2), Slot(9)), w, h)  # slot 1 reads slot 0's features
    vector = space.encode(genome)
    # per slot (class, featurizer label, feature label); slot 0's featurizer group of one is no sharing
    assert list(vector[2:14]) == [1, 0, 1, 1, 0, 1, 3, 0, 0, 0, 0, 0]
    low, high = space.encoding_bounds()
    rec1_expansion = 14 + 11 * 4 + 5  # class 5 (Rec-1), which no slot uses
    dont_care = [(3, 2),  # a featurizer label no other slot of the class carries
                 (9, 1), (10, 2),  # the memoryless slot's labels (no other slot of its class)
                 (12, 2), (13, 1),  # the empty slot's labels
                 (rec1_expansion, 1)]
    for gene, value in dont_care:
        mutant = vector.copy()
        mutant[gene] = value
        assert low[gene] <= value <= high[gene] and value != vector[gene]
        decoded = space.decode(mutant)
        assert decoded is not None and space.key(decoded) == space.key(genome), gene
    tail = vector.copy()
    tail[5] = 0  # slot 1 empty: it and every later slot are ignored
    assert space.decode(tail) == Genome((Slot(1),), w, h)
    rule3 = vector.copy()
    rule3[[3, 6]] = 1  # slot 1, a feature consumer, would also share slot 0's featurizer
    assert space.decode(rule3) is None
    rule3[2] = 2  # slot 0 Rec-1: now the labels name different groups and nothing is forbidden
    assert space.decode(rule3) == Genome((Slot(5), Slot(1), Slot(9)), w, h)


# -- the random baselines on LIVBench-v0 -------------------------------------------------------


def bench_search(run, params, seed: int = 0, budget: int = 20) -> tuple[SearchTracker, DesignEnv]:
    env = build_env("livgym/LIVBench-v0", env={"max_edits": 4})
    tracker = SearchTracker(env.objectives, budget)
    env.add_evaluation_callback(tracker)
    run(SearchContext(env, lambda: env, tracker, seed), params)
    return tracker, env


def hashes(tracker: SearchTracker) -> list[str]:
    return [r.genome_hash for r in tracker.records]


@pytest.mark.parametrize("run, params", [(random_search, RandomSearchParams()),
                                         (random_search, RandomSearchParams(batch=3)),
                                         (regularized_evolution, EvolutionParams(population=5, sample=2))])
def test_uniform_baselines_run_on_the_bench_reproducibly(run, params):
    tracker, env = bench_search(run, params)
    assert tracker.used == 20
    assert all(r.genome_hash in env.space.index.genomes for r in tracker.records)
    assert hashes(tracker) == hashes(bench_search(run, params)[0])
    assert hashes(tracker) != hashes(bench_search(run, params, seed=1)[0])


def test_uniform_random_search_evaluates_the_space_samples_in_order():
    tracker, env = bench_search(random_search, RandomSearchParams())
    rng = np.random.default_rng(0)
    expected: list[str] = []
    while len(expected) < 20:
        key = env.space.key(env.space.sample(rng))
        if key not in expected:
            expected.append(key)
    assert hashes(tracker) == expected
    evolution, _ = bench_search(regularized_evolution, EvolutionParams(population=5, sample=2))
    assert hashes(evolution)[:3] == expected[:3], "evolution's initial population is drawn the same way"


def old_random_search(context: SearchContext, params: RandomSearchParams) -> None:
    """Random search as it was before `sampler` (random masked walks from the env's start)."""
    env, tracker = context.env, context.tracker
    rng = np.random.default_rng(context.seed)
    env.reset(seed=context.seed)
    while not tracker.done:
        plans = [plan_random_episode(env, rng) for _ in range(params.batch)]
        context.evaluate_together([p.final for p in plans])
        for plan in plans:
            if tracker.done:
                break
            replay(env, plan)


def test_the_walk_sampler_keeps_the_old_random_walks():
    walk, _ = bench_search(random_search, RandomSearchParams(sampler="walk"))
    old, _ = bench_search(old_random_search, RandomSearchParams())
    assert hashes(walk) == hashes(old)
    assert hashes(walk) != hashes(bench_search(random_search, RandomSearchParams())[0])


def test_an_unknown_sampler_and_a_space_without_sample_are_named():
    with pytest.raises(ValueError, match=r"sampler='grid' is not one of \['uniform', 'walk'\]"):
        RandomSearchParams(sampler="grid")
    with pytest.raises(ValueError, match="sampler='grid'"):
        EvolutionParams(sampler="grid")

    class NoSample(TableSearchSpace):
        def sample(self, rng):
            raise NotImplementedError("NoSample does not implement sample(rng)")

    space = NoSample({(0,): {"params": 1e4, "cache_bytes": 2e3}, (1,): {"params": 2e4, "cache_bytes": 1e3}}, (2,))
    env = DesignEnv(space, objectives=OBJECTIVES)
    tracker = SearchTracker(env.objectives, 2)
    env.add_evaluation_callback(tracker)
    with pytest.raises(NotImplementedError, match="does not implement sample.*sampler: walk"):
        random_search(SearchContext(env, lambda: env, tracker, 0), RandomSearchParams())
