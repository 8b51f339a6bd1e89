"""The search-method registry: one `SearchMethod` entry per method a config can name, the only list.

Every method drives the same `DesignEnv`, so all share its space, evaluator, store, reward and
budget accounting (`livgym.controllers.methods.contract` says what a method is given and declares).
`SearchConfig` checks `method:` and `methods:` against this registry and fills defaults from
it, model-based search reads which methods it is on for by default, and `livgym search` /
`livgym compare` offer its names, so adding a method is its module (parameters dataclass and
run function) and one `register` line, here or at run time.

The built-in entries name their parameters and run functions as `"module:attr"` targets, so
reading this registry imports neither SB3 nor torch: `livgym --help` lists the names from here.
"""

from __future__ import annotations

from typing import Any

from livgym.controllers.methods.contract import RunFunction, SearchContext, SearchMethod, load_target

METHODS: dict[str, SearchMethod] = {}


def register(method: SearchMethod) -> SearchMethod:
    """Add a method to the registry; its name must be new."""
    if method.name in METHODS:
        raise ValueError(f"search method {method.name!r} is already registered")
    METHODS[method.name] = method
    return method


def method_names() -> tuple[str, ...]:
    """Every registered method's name, in registration order."""
    return tuple(METHODS)


def get_method(name: str, where: str = "method") -> SearchMethod:
    """The registered method called `name`, or a ValueError naming it and the known ones."""
    if name not in METHODS:
        raise ValueError(f"{where}={name!r} is not one of {method_names()}")
    return METHODS[name]


def _trained(algorithm: str) -> RunFunction:
    """The run function training SB3's `algorithm` (a `"module:Class"` target) on the design env
    (`livgym.controllers.methods.rl.rl_search`); SB3 is imported when the search runs."""

    def run(context: SearchContext, params: Any) -> None:
        from livgym.controllers.methods.rl import rl_search

        rl_search(load_target(algorithm, "algorithm"))(context, params)

    return run


_BASELINES = "livgym.controllers.methods.baselines"
_RL = "livgym.controllers.methods.rl"

register(SearchMethod("random", f"{_BASELINES}:RandomSearchParams", f"{_BASELINES}:random_search",
                      "uniform random designs from the space's sample (walk: random masked walks)"))
register(SearchMethod("evolution", f"{_BASELINES}:EvolutionParams", f"{_BASELINES}:regularized_evolution",
                      "regularized (aging) evolution: tournament, one-edit mutation, oldest out"))
register(SearchMethod("nsga2", "livgym.controllers.methods.nsga2:NSGA2Params",
                      "livgym.controllers.methods.nsga2:nsga2_search", "NSGA-II on the flat genome, as STAR searches"))
register(SearchMethod("optuna", "livgym.controllers.methods.optuna_search:OptunaParams",
                      "livgym.controllers.methods.optuna_search:optuna_search",
                      "Bayesian optimisation with Optuna (TPE; gp: Gaussian process) over the space's flat encoding"))
register(SearchMethod("maskable_ppo", f"{_RL}:MaskablePPOParams", _trained("sb3_contrib:MaskablePPO"),
                      "PPO that only ever picks allowed edits (sb3-contrib's MaskablePPO)", model_based=True))
register(SearchMethod("ppo", f"{_RL}:PPOParams", _trained("stable_baselines3:PPO"),
                      "PPO without masks: an invalid edit costs a penalty", model_based=True))
register(SearchMethod("a2c", f"{_RL}:A2CParams", _trained("stable_baselines3:A2C"),
                      "A2C without masks: an invalid edit costs a penalty", model_based=True))
register(SearchMethod("recurrent_ppo", f"{_RL}:RecurrentPPOParams", _trained("sb3_contrib:RecurrentPPO"),
                      "PPO with an LSTM policy, without masks", model_based=True))
