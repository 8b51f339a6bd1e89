"""Evaluator implementations; importing this package registers every fidelity.

| fidelity        | what it measures                                                  |
|-----------------|-------------------------------------------------------------------|
| mad-lite        | MAD's six synthetic tasks at proxy scale (600 updates, mixture)     |
| mad-lite-short  | the same with a quarter of the updates                             |
| mad-lite-long   | the same with four times the updates (the fidelity reference)      |
| byte-lm         | held-out bits per byte on the Python standard library's source     |
| zero-cost       | grad_norm / snip / synflow at initialisation                      |
| efficiency      | analytic params / cache / FLOPs and measured decode latency       |
| analytic        | the analytic metrics alone (microseconds)                         |
"""

from livgym.rewards.evaluators import byte_lm, efficiency, mad_lite, zero_cost  # noqa: F401
