"""The evaluation infrastructure every fidelity goes through: the evaluator interface and its
registry, results and their hashes, the evaluation store and its datasets.
"""
