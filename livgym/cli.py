"""The `livgym` command line: one sub-command group per module under `livgym.commands`."""

from __future__ import annotations

import argparse
import os
import sys

from livgym.commands import compare as compare_command
from livgym.commands import dataset as dataset_command
from livgym.commands import evaluate as evaluate_command
from livgym.commands import genome as genome_command
from livgym.commands import search as search_command
from livgym.commands import space as space_command
from livgym.rewards.evaluation.store import StoreError
from livgym.version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="livgym", description="Design LIV sequence-model architectures.")
    parser.add_argument("--version", action="version", version=f"livgym {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    genome_command.add_parser(commands)
    evaluate_command.add_parser(commands)
    search_command.add_parser(commands)
    compare_command.add_parser(commands)
    space_command.add_parser(commands)
    dataset_command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, StoreError) as err:  # bad input or an unusable store file: one line, no traceback
        print(f"livgym: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # piped into `head`, which closed early: stop quietly (Python's signal docs)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
