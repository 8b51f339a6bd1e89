"""Hypothesis strategies for valid genomes, shared by the test modules.

`genomes` builds a genome slot by slot and never consults the edit code, so it can check
`valid_edits` independently: each slot draws a class and both sharing pairs (group numbers
drawn from a few values so that groups form), and a pair that the genome constructor rejects
is made independent. That repair is enough because validity is prefix-closed: a group's
first member never changes as slots are appended. `edited_genomes` then walks a few random
valid edits from such a genome, reaching layouts the direct draw makes rarely. The hostile
inputs at the end (`json_values`, `genome_texts`, `genome_vectors`, `search_config_yaml`, ...)
feed the parsers' property tests: mostly near misses of valid input, so they reach deep checks.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace

from hypothesis import strategies as st

from livgym.models.edits import apply_edit, valid_edits
from livgym.models.genes import MAX_SHARING_GROUP
from livgym.models.genome import Genome, Slot, vector_length, width_problem
from livgym.models.registry import CLASS_IDS, CLASSES_BY_ID, HYPERPARAMETER_CHOICES, ClassGenome
from livgym.rewards.objectives import DEFAULT_OBJECTIVES, Objective

# Valid (width, heads) pairs, chosen so that some classes are unbuildable at some of them:
# heads 6 rules out GQA repeat 4, and width 48 with 16 heads gives softmax attention an odd
# head dimension (3), which rotary embeddings cannot use.
WIDTH_HEADS: tuple[tuple[int, int], ...] = ((768, 12), (64, 4), (128, 2), (96, 6), (48, 16), (16, 1))


@st.composite
def class_overrides(draw: st.DrawFn, max_overrides: int = 3) -> tuple[tuple[int, ClassGenome], ...]:
    """Per-class genome overrides: hyperparameters redrawn (used or not), or a copy of another
    class's genome, so that two class ids can name one operator."""
    table = {c: CLASSES_BY_ID[c].genome for c in CLASS_IDS}
    chosen: dict[int, ClassGenome] = {}
    for _ in range(draw(st.integers(0, max_overrides))):
        class_id = draw(st.sampled_from(CLASS_IDS))
        if draw(st.booleans()):
            genome = table[draw(st.sampled_from(CLASS_IDS))]
        else:
            genome = table[class_id]
            for gene, choices in HYPERPARAMETER_CHOICES.items():
                if draw(st.integers(0, 2)) == 0:
                    value = draw(st.sampled_from(choices))
                    genome = replace(genome, **{gene: bool(value) if gene == "short_conv" else value})
        table[class_id] = chosen[class_id] = genome
    return tuple(chosen.items())


def _group_numbers(max_group: int) -> st.SearchStrategy[int]:
    """Mostly small numbers, so groups form; sometimes large ones (dotted notation)."""
    return st.integers(1, max_group) | st.sampled_from((10, MAX_SHARING_GROUP))


def _related_classes(class_ids: list[int], table: dict[int, ClassGenome]) -> list[tuple[int, ...]]:
    """Sets of two or more class ids with one genome or one feature signature: the slots that
    may share a group across class ids (SA-1 and SA-2 differ only in short_conv, for one)."""
    by_key: dict[object, list[int]] = {}
    for c in class_ids:
        by_key.setdefault(("genome", table[c]), []).append(c)
        if table[c].shareable_features:
            by_key.setdefault(("signature", table[c].feature_signature()), []).append(c)
    return sorted(tuple(ids) for ids in by_key.values() if len(ids) > 1)


@st.composite
def genomes(draw: st.DrawFn, max_depth: int = 8, max_group: int = 3) -> Genome:
    """A random valid genome of depth 1..max_depth, with overrides and any listed width/heads."""
    width, heads = draw(st.sampled_from(WIDTH_HEADS))
    overrides = draw(class_overrides())
    table = {c: CLASSES_BY_ID[c].genome for c in CLASS_IDS} | dict(overrides)
    buildable = [c for c in CLASS_IDS if width_problem(table[c], width, heads) is None]
    palette = draw(st.lists(st.sampled_from(buildable), min_size=1, max_size=3, unique=True))
    related = _related_classes(buildable, table)
    if related and draw(st.booleans()):
        palette = list(draw(st.sampled_from(related))) + palette[:1]
    slots: list[Slot] = []
    for _ in range(draw(st.integers(1, max_depth))):
        liv_class = draw(st.sampled_from(palette))
        fz_group, fz_strategy = draw(_group_numbers(max_group)), draw(st.sampled_from((1, 2, 2)))
        ft_group, ft_strategy = draw(_group_numbers(max_group)), draw(st.sampled_from((1, 2, 2)))
        for fz, ft in ((fz_strategy, ft_strategy), (1, ft_strategy), (fz_strategy, 1), (1, 1)):
            slot = Slot(liv_class, fz_group, fz, ft_group, ft)
            try:
                Genome((*slots, slot), width=width, heads=heads, class_overrides=overrides)
            except ValueError:
                continue
            slots.append(slot)
            break
    return Genome(tuple(slots), width=width, heads=heads, class_overrides=overrides)


@st.composite
def edited_genomes(draw: st.DrawFn, max_depth: int = 8, max_steps: int = 4) -> Genome:
    """A `genomes` draw followed by up to `max_steps` random valid edits."""
    genome = draw(genomes(max_depth=max_depth))
    for _ in range(draw(st.integers(0, max_steps))):
        edits = valid_edits(genome, max_depth)
        if not edits:
            break
        genome = apply_edit(genome, draw(st.sampled_from(edits)), max_depth)
    return genome


# ---- hostile inputs, for the parsers' property tests (tests/test_fuzz.py) and their benchmark ----

#: characters a near-miss genome string is edited with: its own notation's, digits that are not
#: ASCII ("٣" Arabic-Indic three, "²" superscript two), and separators of other notations
GENOME_CHARS = "0123456789.-@+:wh ٣²١x,;_"

json_scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
                | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12))
#: any JSON value (NaN and the infinities included, as Python's json reads them)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@st.composite
def near_miss(draw: st.DrawFn, valid: st.SearchStrategy, values: st.SearchStrategy = json_values) -> object:
    """A valid JSON-like document with one value, anywhere in it, replaced by a drawn one (so
    that most draws get past the outer checks and reach the inner ones)."""
    document = draw(valid)
    paths: list[tuple] = []

    def walk(node: object, path: tuple) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, (*path, i))

    walk(document, ())
    path = draw(st.sampled_from(paths))
    value = draw(values)
    if not path:
        return value
    node = document
    for key in path[:-1]:
        node = node[key]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    return document


genome_dicts = genomes(max_depth=4).map(lambda g: g.to_dict())
genome_json_values = json_values | near_miss(genome_dicts) | near_miss(genome_dicts, json_scalars)


@st.composite
def genome_texts(draw: st.DrawFn) -> str:
    """Arbitrary text, or a valid genome string with a few characters replaced or inserted."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.text(max_size=40))
    text = list(draw(genomes(max_depth=4)).to_string())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        char = draw(st.sampled_from(GENOME_CHARS) | st.characters())
        if at < len(text) and draw(st.booleans()):
            text[at] = char
        else:
            text.insert(at, char)
    return "".join(text)


def _vector_entries() -> st.SearchStrategy:
    return (st.integers(-3, 30) | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
            | st.sampled_from([math.inf, -math.inf, math.nan, 2.5, 1.0]))


@st.composite
def genome_vectors(draw: st.DrawFn, max_depth: int = 4) -> list:
    """A valid genome's flat vector with a few entries replaced by integers or floats (inf and
    NaN included), or a vector of arbitrary length and entries."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.lists(_vector_entries(), max_size=vector_length(max_depth) + 2))
    vector: list = [int(v) for v in draw(genomes(max_depth=max_depth)).to_vector(max_depth)]
    for _ in range(draw(st.integers(1, 3))):
        vector[draw(st.integers(0, len(vector) - 1))] = draw(_vector_entries())
    return vector


objective_names = (json_values | st.lists(st.sampled_from(sorted(DEFAULT_OBJECTIVES)) | json_scalars, max_size=4))
objective_overrides = st.dictionaries(st.sampled_from(sorted(DEFAULT_OBJECTIVES)) | st.text(max_size=6),
                                      st.dictionaries(st.sampled_from(sorted(f.name for f in fields(Objective)))
                                                      | st.text(max_size=6), json_scalars, max_size=3)
                                      | json_scalars, max_size=3)

#: evaluator config keys `--set` is given (real ones, dotted ones and typos)
SET_KEYS = ("width", "heads", "context_length", "vocab_size", "threads", "latency", "latency_width", "tasks",
            "mode", "train.steps", "train.lr", "train.betas", "train.device", "train", "task_weights",
            "quality_proxy", "batch_size", "nope", "train.nope", "width.x")
set_items = st.tuples(st.sampled_from(SET_KEYS) | st.text(max_size=6),
                      st.text(max_size=12) | st.sampled_from(["abc", "1.5", "-1", "[", "{a: 1}", "[1, 2]", "null",
                                                              ".nan", ".inf", "true", "99999999999999999999"]))

# Module names a fuzzed config may ask workers to import: never an arbitrary one, since importing
# is running code (a config is code).
SAFE_IMPORTS = ("crash_fidelity", "no_such_module_fuzz", "", "json")
SEARCH_KEYS = ("name", "method", "budget", "seed", "patience", "env_id", "space", "env", "backend", "methods")
SPACE_KEYS = ("max_depth", "width", "heads", "classes", "fidelity", "fidelity_overrides", "eval_seed",
              "context_length", "vocab_size", "build_start", "references", "start_depth")
ENV_KEYS = ("max_edits", "max_steps", "mode", "objectives", "objective_overrides", "scalariser", "scalariser_kwargs",
            "constraints", "mask_constraints", "shaping", "gamma", "failure_penalty", "invalid_action_penalty",
            "observation", "start")
BACKEND_KEYS = ("kind", "workers", "address", "retries", "timeout_s", "imports")


def _section(keys: tuple[str, ...], values: st.SearchStrategy) -> st.SearchStrategy:
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), values, max_size=3)


_space_values = json_values | st.sampled_from([2, 4, 12, 64, 2**63, 0, -1, [1, 2], [[1, 2]], "zero-cost", "mad-lite",
                                               "analytic", "91111", "x", {"width": "abc"}, {"train.steps": 1.5}])
_env_values = json_values | st.sampled_from([["quality", "params"], ["nope"], 1.5, "quality", {"max_params": "x"},
                                             "weighted_sum", "build", "edit", 0, -1, 8])
_backend_values = json_values | st.sampled_from(["inline", "pool", "ray", 1, 0, -1, 2.5, list(SAFE_IMPORTS[:2])])


def _backend_section() -> st.SearchStrategy:
    # imports only ever names a module from SAFE_IMPORTS (or is not a list of names at all)
    not_text = json_scalars.filter(lambda v: not isinstance(v, str))
    imports = st.lists(st.sampled_from(SAFE_IMPORTS), max_size=2) | not_text
    return st.dictionaries(st.sampled_from([k for k in BACKEND_KEYS if k != "imports"]), _backend_values,
                           max_size=3).flatmap(lambda d: st.fixed_dictionaries({}, optional={"imports": imports})
                                               .map(lambda extra: {**d, **extra}))


#: a valid, cheap search config that `search_config_yaml` edits a field or two of
BASE_CONFIG = {"budget": 4, "space": {"max_depth": 2, "fidelity": "analytic"},
               "env": {"max_edits": 2, "objectives": ["params", "cache_bytes"]}}


@st.composite
def search_config_yaml(draw: st.DrawFn, methods: dict[str, tuple[str, ...]]) -> str:
    """A search config file: arbitrary text, a mapping of (mostly) real keys to hostile values,
    or, most often, `BASE_CONFIG` with one or two settings given hostile values (so the draw
    reaches the checks of the space, the env, the backend and the method). `methods`: each
    registered search method's parameter names."""
    import copy

    import yaml

    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.text(max_size=60))
    names = sorted(methods)
    sections = {
        "space": (SPACE_KEYS, _space_values),
        "env": (ENV_KEYS, _env_values),
        "backend": (tuple(k for k in BACKEND_KEYS if k != "imports"), _backend_values),
    }
    if kind == 1:
        config: dict = {}
        for key in draw(st.lists(st.sampled_from(SEARCH_KEYS) | st.text(max_size=6), max_size=4, unique=True)):
            if key in sections:
                config[key] = draw(_section(*sections[key]))
            elif key == "backend":
                config[key] = draw(_backend_section())
            else:
                config[key] = draw(json_values)
        return yaml.safe_dump(config, allow_unicode=True)
    config = copy.deepcopy(BASE_CONFIG)
    config["method"] = draw(st.sampled_from(names))

    def section(name: str, within: dict) -> dict:  # an edited section, even one made hostile before
        if not isinstance(within.get(name), dict):
            within[name] = {}
        return within[name]

    for _ in range(draw(st.integers(1, 2))):
        where = draw(st.sampled_from(("space", "env", "backend", "imports", "methods", "top")))
        if where in sections:
            keys, values = sections[where]
            section(where, config)[draw(st.sampled_from(keys) | st.text(max_size=4))] = draw(values)
        elif where == "imports":
            section("backend", config).update(draw(_backend_section()))
        elif where == "methods":
            method = draw(st.sampled_from(names))
            parameter = draw(st.sampled_from(methods[method] or ("x",)) | st.text(max_size=4))
            section(method, section("methods", config))[parameter] = draw(json_scalars)
        else:
            config[draw(st.sampled_from(SEARCH_KEYS))] = draw(json_values | st.sampled_from(names))
    return yaml.safe_dump(config, allow_unicode=True)
