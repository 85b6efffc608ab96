"""The state of a training run directory: new, incomplete or complete.

``bioseq train --out RUN`` writes ``RUN/config.yaml`` when it starts and
``RUN/complete.json`` (:data:`MARKER`) last, atomically, once the bundle,
metrics and plots are all written. A run directory without the marker is
*incomplete*: killed, failed or still running. Commands that read a trained
model (``evaluate``, ``predict``, ``scan``, ``compare``, ``ensemble``) refuse
an incomplete run with the command that finishes it (:func:`require_complete`),
so stale outputs of an earlier run are never taken for a new run's.

A plain bundle directory (``config.json`` + ``model.safetensors``, e.g. from
``bioseq ensemble``) is not a run directory and is always whole: bundles are
written atomically.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shlex
import shutil
from pathlib import Path

from bioseq import __version__
from bioseq.errors import InputError

__all__ = [
    "MARKER",
    "RUN_ENTRIES",
    "run_state",
    "run_of",
    "require_complete",
    "resume_command",
    "mark_complete",
    "unmark",
    "clear_run",
    "read_marker",
]

MARKER = "complete.json"
RUN_ENTRIES = (
    "bundle",
    "checkpoints",
    "logs",
    "tensorboard",
    "plots",
    "members",
    "metrics.json",
    "metrics.tsv",
    "config.yaml",
    MARKER,
)
"""What ``bioseq train`` writes into a run directory (and ``--overwrite`` removes)."""


def _is_run(path: Path) -> bool:
    return (path / "config.yaml").is_file() or (path / "checkpoints").is_dir() or (path / MARKER).exists()


def run_of(path: str | os.PathLike) -> Path | None:
    """The training run directory that ``path`` is or belongs to, or None.

    ``path`` may be the run directory, its ``bundle/``, or an evaluation
    written into it (``RUN/evaluation/<name>``, or its ``metrics.json``).
    """
    path = Path(path)
    if path.is_file():
        path = path.parent
    candidates = [path]
    if path.name == "bundle":
        candidates.append(path.parent)
    if path.parent.name == "evaluation":
        candidates.append(path.parent.parent)
    for candidate in candidates:
        if candidate.is_dir() and _is_run(candidate):
            return candidate
    return None


def run_state(path: str | os.PathLike) -> str:
    """``"new"`` (absent, or none of :data:`RUN_ENTRIES`), ``"complete"`` or ``"incomplete"``."""
    path = Path(path)
    if not path.is_dir() or not any((path / name).exists() for name in RUN_ENTRIES):
        return "new"
    return "complete" if (path / MARKER).is_file() else "incomplete"


def resume_command(run: str | os.PathLike) -> str:
    """The command that finishes an interrupted run: ``bioseq train --config RUN/config.yaml --resume last``."""
    return f"bioseq train --config {shlex.quote(str(Path(run) / 'config.yaml'))} --resume last"


def require_complete(path: str | os.PathLike) -> None:
    """Refuse a training run directory (or its bundle or evaluation) that has no :data:`MARKER`.

    Raises
    ------
    InputError
        Naming the run and the command that finishes it.
    """
    run = run_of(path)
    if run is None or (run / MARKER).is_file():
        return
    how = (
        f"Finish it with: {resume_command(run)}"
        if (run / "config.yaml").is_file()
        else "Train it again (bioseq train ... --overwrite)"
    )
    raise InputError(
        f"the training run did not finish (it has no {MARKER}): it was stopped, failed or is still running",
        path=run,
        fix=how,
    )


def read_marker(run: str | os.PathLike) -> dict | None:
    """The contents of ``RUN/complete.json``, or None when there is none (or it is not a JSON object)."""
    try:
        value = json.loads((Path(run) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def mark_complete(run: str | os.PathLike, signature: dict) -> Path:
    """Write ``RUN/complete.json`` atomically: the run's signature, bioseq's version and the time."""
    from bioseq.io.handles import atomic_output

    path = Path(run) / MARKER
    record = {
        "bioseq": __version__,
        "signature": signature,
        "completed": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    with atomic_output(path, "w") as handle:
        json.dump(record, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")
    return path


def unmark(run: str | os.PathLike) -> None:
    """Remove the marker (first thing a new or resumed training does)."""
    with contextlib.suppress(FileNotFoundError):
        (Path(run) / MARKER).unlink()


def clear_run(run: str | os.PathLike) -> None:
    """Remove what ``bioseq train`` wrote into ``run`` (:data:`RUN_ENTRIES`), the marker first; keep other files."""
    run = Path(run)
    unmark(run)
    for name in RUN_ENTRIES:
        target = run / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
