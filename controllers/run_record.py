"""`run.yaml`: what a run folder records besides its config, so `--resume` carries on as it began.

The resolved config (`config.yaml`) holds what decides the designs: method, budget, seed, space
(device included), env and backend. `run.yaml` holds the rest of how the run was started (the
evaluation store, the W&B mode, whether plots were drawn) and how far it got: written when the
run starts (not finished) and again when it ends, also after Ctrl-C or an error, so a folder
whose process was killed still reads as unfinished.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

import yaml

from livgym.known_names import check_known

RUN_FILE = "run.yaml"


@dataclass(frozen=True)
class RunRecord:
    livgym: str  # the library version that wrote the folder
    store: str | None  # the evaluation store's absolute path (None: results kept in memory)
    wandb: str = "disabled"  # the W&B mode
    plots: bool = True
    budget: int = 0  # the budget it ran to (the config's, at the time)
    evaluations: int = 0  # unique evaluations done when it was last written
    finished: bool = False  # the method ran to its end: budget spent, or stopped early
    stopped_early: bool = False  # it ended on `patience` revisits in a row (a larger budget ends there too)

    def write(self, run_dir: Path) -> None:
        (Path(run_dir) / RUN_FILE).write_text(yaml.safe_dump(asdict(self), sort_keys=False))

    @classmethod
    def read(cls, run_dir: Path) -> RunRecord | None:
        """The folder's record; None when it has none (not a run folder, or one too old)."""
        path = Path(run_dir) / RUN_FILE
        if not path.exists():
            return None
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise ValueError(f"{path}: is not valid YAML: {' '.join(str(err).split())}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping, got {type(data).__name__}")
        check_known(data, {f.name for f in fields(cls)}, str(path))
        return cls(**{"livgym": "", "store": None, **data})
