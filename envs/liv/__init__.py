"""The LIV search space: genomes as designs, the edit-action codec, the observation encoding.
"""
