"""The search config: one YAML file names the space, evaluator, objectives, method and budget.

Every key is checked against the dataclasses below, so a typo is an error naming the key and
the file, never a silently ignored setting. The resolved config (defaults filled in) is saved
with each run, so a run can be repeated from its own folder.

```yaml
name: quickstart
method: maskable_ppo        # random | evolution | nsga2 | maskable_ppo | ppo | a2c | recurrent_ppo
budget: 60                  # unique designs evaluated
seed: 0
env_id: livgym/Design-v0    # or livgym/LIVBench-v0 (the tabular benchmark)
space: {max_depth: 8, fidelity: zero-cost}        # the env's space arguments (LIVSearchSpace)
env: {max_edits: 8, objectives: [quality, params, cache_bytes]}   # DesignEnv arguments
backend: {kind: pool, workers: 2}                 # where evaluations run (default inline)
methods:
  evolution: {population: 10, sample: 3, batch: 2}
  maskable_ppo: {n_steps: 16, ent_coef: 0.01, n_envs: 2}
```
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import yaml

from livgym.envs.liv_env import ENV_ARGUMENTS, SPACE_ARGUMENTS
from livgym.envs.livbench import SPACE_ARGUMENTS as BENCH_SPACE_ARGUMENTS
from livgym.envs.livbench import bench_objective_overrides
from livgym.rewards.backends import BackendConfig
from livgym.rewards.objectives import ObjectiveSet

#: the envs a search can run on, and the space arguments each accepts
SEARCH_ENVS: dict[str, frozenset[str]] = {
    "livgym/Design-v0": SPACE_ARGUMENTS,
    "livgym/LIVBench-v0": BENCH_SPACE_ARGUMENTS,
}
DEFAULT_SPACES: dict[str, dict[str, Any]] = {
    "livgym/Design-v0": {"max_depth": 8, "fidelity": "zero-cost"},
    "livgym/LIVBench-v0": {},  # the shipped table
}

METHOD_NAMES: tuple[str, ...] = ("random", "evolution", "nsga2", "maskable_ppo", "ppo", "a2c", "recurrent_ppo")
# Hyperparameters an RL method accepts (SB3's constructor arguments; policy_kwargs as a dict).
RL_KEYS: frozenset[str] = frozenset({
    "learning_rate", "n_steps", "batch_size", "n_epochs", "gamma", "gae_lambda", "clip_range", "ent_coef",
    "vf_coef", "max_grad_norm", "normalize_advantage", "policy_kwargs", "device",
    "n_envs",  # parallel envs in the rollout (in-process copies sharing the budget tracker)
    "revisit_penalty",  # subtracted from the reward of a design the search has evaluated before
})
METHOD_KEYS: dict[str, frozenset[str]] = {
    "random": frozenset({"batch"}),  # walks evaluated together (on the backend)
    "evolution": frozenset({"population", "sample", "batch"}),  # children bred and evaluated together
    "nsga2": frozenset({"population", "tournament", "crossover_prob", "mutation_rate"}),
    "maskable_ppo": RL_KEYS,
    "ppo": RL_KEYS,
    "a2c": RL_KEYS - {"batch_size", "n_epochs", "clip_range"},
    "recurrent_ppo": RL_KEYS,
}
DEFAULT_METHODS: dict[str, dict[str, Any]] = {
    "random": {},
    # The NAS-benchmark settings of regularized (aging) evolution.
    "evolution": {"population": 10, "sample": 3},
    # STAR's settings.
    "nsga2": {"population": 16, "tournament": 3, "crossover_prob": 0.9, "mutation_rate": 0.1},
    # Short rollouts: one PPO update per few designs. With 64-step rollouts MaskablePPO came last
    # at 100 evaluations; with these it came first (benchmarks/RESULTS.md, issue 5).
    "maskable_ppo": {"n_steps": 16, "batch_size": 16, "learning_rate": 1e-3, "ent_coef": 0.01, "gamma": 1.0},
    "ppo": {"n_steps": 64, "batch_size": 64, "learning_rate": 3e-4, "ent_coef": 0.01, "gamma": 1.0},
    "a2c": {"n_steps": 8, "learning_rate": 7e-4, "ent_coef": 0.01, "gamma": 1.0},
    "recurrent_ppo": {"n_steps": 64, "batch_size": 64, "learning_rate": 3e-4, "ent_coef": 0.01, "gamma": 1.0},
}


@dataclass(frozen=True)
class SearchConfig:
    """A whole search: what to design, how to score it, which method, how many evaluations."""

    name: str = "search"
    method: str = "maskable_ppo"
    budget: int = 60  # unique designs evaluated (revisits are free and counted separately)
    seed: int = 0
    patience: int = 2000  # revisits in a row without a new design before the search stops early
    env_id: str = "livgym/Design-v0"  # the design env (`SEARCH_ENVS`)
    space: dict[str, Any] | None = None  # the env's space arguments (default: DEFAULT_SPACES[env_id])
    env: dict[str, Any] = field(default_factory=lambda: {"max_edits": 8})
    backend: dict[str, Any] = field(default_factory=dict)  # `BackendConfig` fields; default inline
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"config {self.name!r}"
        if self.method not in METHOD_NAMES:
            raise ValueError(f"{where}: method={self.method!r} is not one of {METHOD_NAMES}")
        if not isinstance(self.budget, int) or self.budget < 1:
            raise ValueError(f"{where}: budget={self.budget!r} must be a positive integer")
        if not isinstance(self.seed, int):
            raise ValueError(f"{where}: seed={self.seed!r} must be an integer")
        if not isinstance(self.patience, int) or self.patience < 1:
            raise ValueError(f"{where}: patience={self.patience!r} must be a positive integer")
        if self.env_id not in SEARCH_ENVS:
            raise ValueError(f"{where}: env_id={self.env_id!r} is not one of {sorted(SEARCH_ENVS)}")
        if self.space is None:
            object.__setattr__(self, "space", dict(DEFAULT_SPACES[self.env_id]))
        _check_keys(f"{where}: space", self.space, SEARCH_ENVS[self.env_id] - {"store"})
        _check_keys(f"{where}: backend", self.backend, {f.name for f in fields(BackendConfig)})
        try:
            self.backend_config()
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: {err}") from None
        _check_keys(f"{where}: env", self.env, ENV_ARGUMENTS - {"render_mode", "vector_reward"})
        _check_keys(f"{where}: methods", self.methods, set(METHOD_NAMES))
        for method, params in self.methods.items():
            _check_keys(f"{where}: methods.{method}", params, METHOD_KEYS[method])

    def objectives(self) -> ObjectiveSet:
        """The env's objectives, built as the env builds them (so archives and logs agree)."""
        names = tuple(self.env.get("objectives", ("quality", "params", "cache_bytes")))
        overrides = dict(self.env.get("objective_overrides") or {})
        if self.env_id == "livgym/LIVBench-v0":  # the bench's references come from its table
            overrides = {**bench_objective_overrides(self.space.get("table"), names), **overrides}
        return ObjectiveSet.from_names(names, **overrides)

    def backend_config(self) -> BackendConfig:
        return BackendConfig.from_dict(self.backend)

    def method_params(self, method: str | None = None) -> dict[str, Any]:
        """A method's hyperparameters: its defaults updated by the config's `methods` entry."""
        method = method or self.method
        return {**DEFAULT_METHODS[method], **self.methods.get(method, {})}

    def resolved(self) -> dict[str, Any]:
        """The config as saved with a run: every method's effective hyperparameters filled in."""
        data = asdict(self)
        data["methods"] = {m: self.method_params(m) for m in METHOD_NAMES}
        return data

    def with_overrides(self, **overrides: Any) -> SearchConfig:
        """A copy with top-level fields replaced (None values are ignored), re-validated."""
        data = asdict(self)
        data.update({k: v for k, v in overrides.items() if v is not None})
        return SearchConfig(**data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "config") -> SearchConfig:
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected a mapping of config keys, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        _check_keys(where, data, known)
        return cls(**dict(data))

    @classmethod
    def from_yaml(cls, path: str | Path) -> SearchConfig:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
        except OSError as err:
            raise ValueError(f"config file {path}: cannot be read: {err}") from None
        except yaml.YAMLError as err:
            raise ValueError(f"config file {path}: is not valid YAML: {err}") from None
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ValueError(f"config file {path}: expected a mapping of config keys, got {type(data).__name__}")
        data = {"name": path.stem, **data}
        try:
            return cls.from_dict(data, where=f"config file {path}")
        except TypeError as err:
            raise ValueError(f"config file {path}: {err}") from None


def _check_keys(where: str, data: Mapping[str, Any], known: set[str] | frozenset[str]) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a mapping, got {type(data).__name__}: {data!r}")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known: {sorted(known)}")
