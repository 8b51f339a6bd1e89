"""The search-method registry: one `SearchMethod` entry per method a config can name.

Every method drives the same `DesignEnv`, so all share its space, evaluator, store, reward and
budget accounting (`livgym.controllers.methods.contract` says what a method is given and declares).
`SearchConfig` checks `method:` and `methods:` against this registry and fills defaults from
it, and `livgym search` / `livgym compare` offer its names, so adding a method is its module
(parameters dataclass and run function) and one `register` line, here or at run time.
"""

from __future__ import annotations

from sb3_contrib import MaskablePPO, RecurrentPPO
from stable_baselines3 import A2C, PPO

from livgym.controllers.methods.baselines import EvolutionParams, RandomSearchParams, random_search, regularized_evolution
from livgym.controllers.methods.contract import SearchMethod
from livgym.controllers.methods.nsga2 import NSGA2Params, nsga2_search
from livgym.controllers.methods.optuna_search import OptunaParams, optuna_search
from livgym.controllers.methods.rl import A2CParams, MaskablePPOParams, PPOParams, RecurrentPPOParams, rl_search

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


register(SearchMethod("random", RandomSearchParams, random_search, "uniform random designs from the space's sample (walk: random masked walks)"))
register(SearchMethod("evolution", EvolutionParams, regularized_evolution,
                      "regularized (aging) evolution: tournament, one-edit mutation, oldest out"))
register(SearchMethod("nsga2", NSGA2Params, nsga2_search, "NSGA-II on the flat genome, as STAR searches"))
register(SearchMethod("optuna", OptunaParams, optuna_search,
                      "Bayesian optimisation with Optuna (TPE; gp: Gaussian process) over the space's flat encoding"))
register(SearchMethod("maskable_ppo", MaskablePPOParams, rl_search(MaskablePPO),
                      "PPO that only ever picks allowed edits (sb3-contrib's MaskablePPO)"))
register(SearchMethod("ppo", PPOParams, rl_search(PPO), "PPO without masks: an invalid edit costs a penalty"))
register(SearchMethod("a2c", A2CParams, rl_search(A2C), "A2C without masks: an invalid edit costs a penalty"))
register(SearchMethod("recurrent_ppo", RecurrentPPOParams, rl_search(RecurrentPPO),
                      "PPO with an LSTM policy, without masks"))
