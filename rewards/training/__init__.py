"""The evaluators' training substrate: the training loop, MAD-style synthetic tasks, the byte
corpus, zero-cost proxies, devices and seeding.
"""
