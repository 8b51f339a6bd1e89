"""Start-up time of the `livgym` command line, against a bare Python interpreter.

    python benchmarks/cli_startup.py [--repeats 9]

Protocol: each command runs as a fresh process, as a user types it (the `livgym` console script
next to this interpreter, else `python -m livgym.cli`), output discarded; one discarded warm-up
run each (the file cache), then the median wall time over `--repeats` runs. The baseline is
`python -c pass` with the same interpreter, measured the same way and interleaved with the
commands so that both see the same machine load. The target is under 1 s for each command.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import machine, markdown_table

COMMANDS: tuple[tuple[str, ...], ...] = (("--help",), ("--version",), ("genome", "show", "transformer++"),
                                         ("genome", "classes"))


def livgym_command() -> list[str]:
    """The console script installed with this interpreter, else the module."""
    script = Path(sys.executable).with_name("livgym")
    if script.exists():
        return [str(script)]
    found = shutil.which("livgym")
    return [found] if found else [sys.executable, "-m", "livgym.cli"]


def wall_time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats {args.repeats}: give at least 1")
    livgym = livgym_command()
    runs = {"python -c pass": [sys.executable, "-c", "pass"],
            **{"livgym " + " ".join(c): [*livgym, *c] for c in COMMANDS}}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for argv in runs.values():
        wall_time(argv)
    for _ in range(args.repeats):
        for name, argv in runs.items():
            times[name].append(wall_time(argv))
    base = statistics.median(times["python -c pass"])
    rows = [[f"`{name}`", f"{statistics.median(t):.3f}", f"{statistics.median(t) - base:+.3f}"]
            for name, t in times.items()]
    print(f"{machine()}; {args.repeats} repeats, median wall time\n")
    print(markdown_table(["command", "seconds", "over `python -c pass`"], rows))


if __name__ == "__main__":
    main()
