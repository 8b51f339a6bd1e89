"""The search config: one YAML file names the space, evaluator, objectives, method and budget.

Every key is checked against the dataclasses below, so a typo is an error naming the key and
the file, never a silently ignored setting. The resolved config (defaults filled in) is saved
with each run, so a run can be repeated from its own folder.

```yaml
name: quickstart
method: maskable_ppo        # a registered method (`livgym.controllers.methods.registry`): random, evolution, ...
budget: 60                  # unique designs evaluated
seed: 0
env_id: livgym/Design-v0    # or livgym/LIVBench-v0 (the tabular benchmark): `livgym.envs.ENVS`
space: {max_depth: 8, fidelity: zero-cost}        # the env's space arguments (LIVSearchSpace)
env: {max_edits: 8, objectives: [quality, params, cache_bytes]}   # DesignEnv arguments
backend: {kind: pool, workers: 2}                 # where evaluations run (default inline)
methods:                    # per method, its parameters dataclass's fields (defaults fill the rest)
  evolution: {population: 10, sample: 3, batch: 2}
  maskable_ppo: {n_steps: 16, ent_coef: 0.01, n_envs: 2}
surrogate: {batch: 4, episodes: 128}   # model-based search (on by default for the RL methods)
```

`space` may instead name a space (`livgym.envs.space_spec`): `space: nk`, `space: runs/landscape.csv`,
`space: {from: my_package.spaces:make_space, size: 10}`. Then `env_id` follows from it (a
shipped name's own id, else `livgym/Space-v0`) and may be left out, and objectives are declared
against the space's metrics in `env.objectives` (`{metric: accuracy, direction: max}`).
Defaults the env has (`max_edits`: `DesignEnv`'s, LIV-Bench's, NK's) are not repeated here:
an `env` key left out is the env's own default.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import yaml

from livgym.controllers.methods.registry import METHODS, get_method
from livgym.controllers.methods.model_based import SurrogateSettings, parse_settings
from livgym.envs import ENVS
from livgym.envs.build import build_env
from livgym.envs.design_env import ENV_ARGUMENTS, DesignEnv
from livgym.envs.space_spec import SPACE_ENV_ID, SpaceSpec
from livgym.known_names import check_known
from livgym.rewards.backends import BackendConfig, import_modules

#: the envs a search can run on: every registered id with a scalar reward
SEARCH_ENV_IDS: tuple[str, ...] = tuple(env_id for env_id, kind in ENVS.items() if not kind.vector_reward)


@dataclass(frozen=True)
class SearchConfig:
    """A whole search: what to design, how to score it, which method, how many evaluations."""

    name: str = "search"
    method: str = "maskable_ppo"
    budget: int = 60  # unique designs evaluated (revisits are free and counted separately)
    seed: int = 0
    patience: int = 2000  # revisits in a row without a new design before the search stops early
    env_id: str | None = None  # the design env (`SEARCH_ENV_IDS`); default: the space's, else livgym/Design-v0
    # the env's space arguments (default: its `EnvKind.default_space`), or a space spec: text or {from: ...}
    space: dict[str, Any] | str | None = None
    env: dict[str, Any] = field(default_factory=dict)  # DesignEnv arguments; the env's defaults fill the rest
    backend: dict[str, Any] = field(default_factory=dict)  # `BackendConfig` fields; default inline
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)  # per method, its parameters
    surrogate: dict[str, Any] = field(default_factory=dict)  # `SurrogateSettings` fields (model-based search)

    def __post_init__(self) -> None:
        where = f"config {self.name!r}"
        get_method(self.method, where=f"{where}: method")
        if not isinstance(self.budget, int) or self.budget < 1:
            raise ValueError(f"{where}: budget={self.budget!r} must be a positive integer")
        if not isinstance(self.seed, int):
            raise ValueError(f"{where}: seed={self.seed!r} must be an integer")
        if not isinstance(self.patience, int) or self.patience < 1:
            raise ValueError(f"{where}: patience={self.patience!r} must be a positive integer")
        self._resolve_space(where)
        if self.env_id not in SEARCH_ENV_IDS:
            raise ValueError(f"{where}: env_id={self.env_id!r} is not one of {list(SEARCH_ENV_IDS)}")
        kind = ENVS[self.env_id]
        if self.space is None:
            object.__setattr__(self, "space", dict(kind.default_space))
        if self.env_id == SPACE_ENV_ID:
            if not isinstance(self.space, Mapping) or "from" not in self.space:
                raise ValueError(f"{where}: env_id {SPACE_ENV_ID} needs space to name one (a table file or "
                                 "module:factory), e.g. space: runs/landscape.csv")
        else:  # a search passes its own evaluation store (`run_search(store=...)`)
            _check_keys(f"{where}: space", self.space, kind.space_arguments - {"store"})
        _check_keys(f"{where}: backend", self.backend, {f.name for f in fields(BackendConfig)})
        try:
            self.backend_config()
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: {err}") from None
        _check_keys(f"{where}: env", self.env, ENV_ARGUMENTS - {"render_mode", "vector_reward"})
        _check_keys(f"{where}: methods", self.methods, set(METHODS))
        for method, params in self.methods.items():
            METHODS[method].parse(params, where)
        self.surrogate_settings()

    def _resolve_space(self, where: str) -> None:
        """A space spec (`space: nk`, `space: {from: table.csv, ...}`) becomes the env id it implies
        and that env's space arguments: a shipped name's own id and arguments, else
        `livgym/Space-v0` with the spec. Without a spec, `env_id` defaults to livgym/Design-v0."""
        space = self.space
        if isinstance(space, str) or (isinstance(space, Mapping) and "from" in space):
            spec = SpaceSpec.parse(space, f"{where}: space")
            spec.check_arguments(f"{where}: space")
            implied = spec.env_id()
            if self.env_id is not None and self.env_id != implied:
                raise ValueError(f"{where}: env_id={self.env_id!r} does not fit space {spec.source!r}, which "
                                 f"{implied} builds; leave env_id out")
            object.__setattr__(self, "env_id", implied)
            if spec.kind() == "shipped":
                space = {**ENVS[implied].default_space, **spec.arguments}
            else:
                space = spec.to_config()
            object.__setattr__(self, "space", space)
        elif self.env_id is None:
            object.__setattr__(self, "env_id", "livgym/Design-v0")

    def with_space(self, space: str | Mapping[str, Any]) -> SearchConfig:
        """A copy on another space (`--space`): the spec replaces `space`, and `env_id` follows it."""
        data = asdict(self)
        data.update(space=space, env_id=None)
        return SearchConfig(**data)

    def make_env(self, store: str | Path | None = None) -> DesignEnv:
        """The search's env, from its id, space and env arguments (and `store`, where the env
        keeps one); the search attaches its bookkeeping afterwards. The backend's `imports`
        come first: they may register the fidelity the space names."""
        import_modules(self.backend_config().imports)
        return build_env(self.env_id, self.space, self.env, store)

    def surrogate_settings(self) -> SurrogateSettings:
        """The model-based search settings, defaults filled in (`settings.applies_to(method)`)."""
        return parse_settings(self.surrogate, f"config {self.name!r}")

    def model_based(self) -> bool:
        """Whether this search's method runs model-based."""
        return self.surrogate_settings().applies_to(self.method)

    def backend_config(self) -> BackendConfig:
        return BackendConfig.from_dict(self.backend)

    def method_params(self, method: str | None = None) -> Any:
        """A method's parameters (its dataclass): its defaults updated by the config's `methods` entry."""
        name = method or self.method
        return get_method(name).parse(self.methods.get(name, {}), f"config {self.name!r}")

    def resolved(self) -> dict[str, Any]:
        """The config as saved with a run: every method's effective parameters filled in (those
        left to a library's own default, None, are left out)."""
        data = asdict(self)
        data["methods"] = {name: {k: v for k, v in asdict(self.method_params(name)).items() if v is not None}
                           for name in METHODS}
        data["surrogate"] = asdict(self.surrogate_settings())
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
        except yaml.YAMLError as err:  # its message spans lines (with a caret under the spot): one line
            where = " ".join(str(err).split())
            raise ValueError(f"config file {path}: is not valid YAML: {where}") from None
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
    """A config section must be a mapping of known keys."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a mapping, got {type(data).__name__}: {data!r}")
    check_known(data, known, where)
