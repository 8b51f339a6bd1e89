"""Search methods: the registry, the method contract, one module per method (RL controllers,
baselines, model-based search) and the surrogate.
"""
