"""A statistics report of LIV-Bench's space itself (issue 6).

    python benchmarks/livbench_report.py [--table PATH]

- how many designs a build episode can reach;
- how quality, params, cache, FLOPs and latency correlate over the table (Spearman);
- which operator classes populate the exact Pareto front of (quality, params, cache);
- the best designs by quality, and how the best designs compare with Transformer++, the
  striped hybrid and the other reference stacks at equal (or smaller) cache.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
from scipy import stats

from common import markdown_table
from livgym.envs.livbench.bench import WEIGHTINGS, known_optima, table_index
from livgym.models.genome import Genome
from livgym.models.reference import REFERENCE_GENOMES, reference_genome
from livgym.models.registry import CLASSES_BY_ID

METRICS = ("quality", "params", "cache_bytes", "flops", "latency")


def classes(text: str) -> str:
    return " ".join(CLASSES_BY_ID[s.liv_class].name for s in Genome.from_string(text).slots)


def shares(text: str) -> bool:
    return any(s.shares_featurizer or s.shares_features for s in Genome.from_string(text).slots)


def build_reachable(capacity_ends: bool, max_edits: int = 8, table: str | None = None) -> int:
    """Designs a build episode can end in, breadth-first over the env's masked edits; with
    `capacity_ends`, an episode also ends on reaching max depth (the Design env's rule)."""
    from livgym.envs.build import build_env

    env = build_env("livgym/LIVBench-v0", {"table": table}, {"max_edits": max_edits})
    space = env.space
    frontier, finals = [space.build_start], {space.key(space.build_start)}
    seen = set(finals)
    for edit in range(max_edits):
        following = []
        for design in frontier:
            for action in np.flatnonzero(env.masks_for(design)[1:]) + 1:
                child = space.apply(design, int(action))
                finals.add(space.key(child))
                ends = edit + 1 >= max_edits or (capacity_ends and child.depth >= space.max_depth)
                if not ends and space.key(child) not in seen:
                    seen.add(space.key(child))
                    following.append(child)
        frontier = following
    return len(finals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", default=None)
    args = parser.parse_args()
    index = table_index(args.table)
    keys = [k for k in index.genomes if index.status[k] == "ok"]
    print(f"{len(index.genomes)} designs, {len(keys)} evaluated ok; fidelity {index.spec['fidelity']}, "
          f"seed {index.spec['seed']}, livgym {index.document.get('livgym_version')}\n")
    values = {m: np.array([index.metrics[k][m] for k in keys]) for m in METRICS}
    print(f"reachable in a build episode of 8 edits: {build_reachable(False, table=args.table)} "
          f"(LIV-Bench's rule); {build_reachable(True, table=args.table)} if reaching 4 slots ended it "
          f"(the Design env's rule)\n")
    q = values["quality"]
    print(f"quality: min {q.min():.3f}, median {np.median(q):.3f}, max {q.max():.3f}\n")
    rows = [[a, *(f"{stats.spearmanr(values[a], values[b]).statistic:+.2f}" for b in METRICS)] for a in METRICS]
    print("Spearman correlations over the table:\n")
    print(markdown_table(["", *METRICS], rows))

    for name, weights in WEIGHTINGS.items():
        optima = known_optima(weights, table=args.table)
        print(f"\nweighting {name} {tuple(round(w, 3) for w in weights)}: best design {optima.best_genome} "
              f"({classes(optima.best_genome)}), reward {optima.best_reward:.4f}")
    front = known_optima(table=args.table).front
    counts = Counter(c for g in front for c in set(classes(g).split()))
    per_class = Counter(c for k in keys for c in set(classes(index.genomes[k]).split()))
    print(f"\nexact Pareto front of (quality, params, cache): {len(front)} designs, "
          f"{sum(shares(g) for g in front)} with sharing\n")
    print(markdown_table(["class", "front designs containing it", "share of the front", "share of the table"],
                         [[c, n, f"{n / len(front):.0%}", f"{per_class[c] / len(keys):.0%}"]
                          for c, n in counts.most_common()]))

    by_key = {Genome.from_string(index.genomes[k]).canonical_hash(): k for k in keys}
    print("\ntop 10 designs by quality:\n")
    top = sorted(keys, key=lambda k: -index.metrics[k]["quality"])[:10]
    print(markdown_table(["design", "classes", "quality", "params", "cache bytes"],
                         [[index.genomes[k], classes(index.genomes[k]), f"{index.metrics[k]['quality']:.3f}",
                           f"{index.metrics[k]['params']:.0f}", f"{index.metrics[k]['cache_bytes']:.0f}"] for k in top]))

    print("\nreference stacks (depth 4) against the best design at equal or smaller cache:\n")
    rows = []
    for name in REFERENCE_GENOMES:
        key = by_key.get(reference_genome(name, depth=4, width=64, heads=4).canonical_hash())
        if key is None:
            continue  # a class outside the sub-space
        ref = index.metrics[key]
        rivals = [k for k in keys if index.metrics[k]["cache_bytes"] <= ref["cache_bytes"]]
        best = max(rivals, key=lambda k: (index.metrics[k]["quality"], -index.metrics[k]["params"]))
        rows.append([name, index.genomes[key], f"{ref['quality']:.3f}", f"{ref['cache_bytes']:.0f}",
                     index.genomes[best], f"{index.metrics[best]['quality']:.3f}",
                     f"{index.metrics[best]['cache_bytes']:.0f}", f"{index.metrics[best]['params']:.0f}"])
    print(markdown_table(["reference", "design", "quality", "cache bytes", "best at <= its cache", "its quality",
                          "its cache bytes", "its params"], rows))


if __name__ == "__main__":
    main()
