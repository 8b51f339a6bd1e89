"""How every parser of user input, and the CLI, takes thousands of hostile inputs: a count.

The targets and inputs are the property tests' (`tests/test_fuzz.py`, `tests/strategies.py`):
arbitrary JSON values, text, integer and float vectors (inf and NaN included) and YAML configs,
mostly near misses of valid input. Per target it prints how many inputs were tried, how many
were accepted, the refusals by exception type (a parser's ValueError, a command's exit 2) and
every bad outcome (any other exception, a message of several lines or naming nothing, a
traceback); a healthy tree has none. A count, not a timing.

    python benchmarks/fuzz_parsers.py                # 3,000 inputs per target
    python benchmarks/fuzz_parsers.py --examples 200 --target "genome string"
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

import test_fuzz  # noqa: E402


def count(target: test_fuzz.Target, examples: int) -> tuple[collections.Counter, list[str]]:
    """(outcome -> how many inputs, the bad outcomes' descriptions) over `examples` draws."""
    outcomes: collections.Counter = collections.Counter()
    bad: list[str] = []

    # Generation only: nothing fails, so there is nothing to shrink; no example database.
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(target.inputs)
    def run(value: object) -> None:
        try:
            outcomes[test_fuzz.judge(target, value)] += 1
        except test_fuzz.BadRefusal as error:
            outcomes["BAD"] += 1
            bad.append(f"{error} <- {value!r:.200}")

    run()
    return outcomes, bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000, help="inputs per target (default 3000)")
    parser.add_argument("--target", action="append", help="only this target (repeatable; default all)")
    args = parser.parse_args()
    targets = [t for t in test_fuzz.TARGETS if not args.target or t.name in args.target]
    print(f"{args.examples} hostile inputs per target; outcome counts (BAD: neither accepted nor refused "
          "with one line naming the field)\n")
    print(f"{'target':<22} {'inputs':>7} {'accepted':>9}  refusals by type{'':<24} {'BAD':>4}  seconds")
    all_bad = 0
    for target in targets:
        start = time.perf_counter()
        outcomes, bad = count(target, args.examples)
        refusals = ", ".join(f"{kind} {n}" for kind, n in outcomes.most_common() if kind not in ("accepted", "BAD"))
        total = sum(outcomes.values())
        print(f"{target.name:<22} {total:>7} {outcomes['accepted']:>9}  {refusals:<40} {outcomes['BAD']:>4}"
              f"  {time.perf_counter() - start:7.0f}")
        for line in bad[:10]:
            print(f"    BAD {line}")
        all_bad += outcomes["BAD"]
    print(f"\n{all_bad} bad outcome(s)")
    return 1 if all_bad else 0


if __name__ == "__main__":
    sys.exit(main())
