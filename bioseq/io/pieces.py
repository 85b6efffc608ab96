"""A folder of finished pieces of one long job, so that a killed job resumes where it stopped.

Contract
--------
A job that can be cut into numbered pieces (variants of a VCF, spans of a
genome) keeps each finished piece in a folder next to its output, usually
``OUT.parts``:

``request.json``
    What was asked, as JSON (the model, the inputs with their sizes and
    modification times from :func:`file_stamp`, the options). A folder made
    for another request is emptied before anything is reused, so a piece
    never mixes two requests.
``piece-000000<suffix>``, ``piece-000001<suffix>``, ...
    One file or folder per finished piece, written atomically by the job
    (:func:`bioseq.io.atomic.atomic_output` / ``atomic_directory`` on
    :meth:`PieceFolder.path`), so a piece on disk is complete.

A rerun of the same request does only the missing pieces; once the outputs
are written from the pieces, the job removes the folder. Nothing in it is
executed or unpickled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

from bioseq.errors import InputError
from bioseq.io.atomic import atomic_output

__all__ = ["PieceFolder", "file_stamp"]

log = logging.getLogger(__name__)


def file_stamp(path: str | os.PathLike | None) -> dict | None:
    """``{"path", "size", "mtime_ns"}`` of a file; of a folder, a sha256 over its files' stamps; None for None."""
    if path is None:
        return None
    path = Path(path).resolve()
    if path.is_dir():
        digest = hashlib.sha256()
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            stat = item.stat()
            digest.update(f"{item.relative_to(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return {"path": os.fspath(path), "files": digest.hexdigest()}
    stat = path.stat()
    return {"path": os.fspath(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


class PieceFolder:
    """The pieces folder of one request (see the module docstring).

    Parameters
    ----------
    folder : str or os.PathLike
    request : dict
        JSON-ready description of the request; a folder holding another is emptied by :meth:`open`.
    suffix : str, default ".json"
        Ending of each piece's name (``""`` for pieces that are folders).
    """

    def __init__(self, folder: str | os.PathLike, request: dict, *, suffix: str = ".json") -> None:
        self.folder = Path(folder)
        self.request = json.loads(json.dumps(request))  # what reading it back gives
        self.suffix = suffix

    def open(self) -> int:
        """Create the folder (or empty one made for another request); returns how many pieces are done.

        Raises
        ------
        InputError
            When a file of the folder's name is in the way.
        """
        stamp = self.folder / "request.json"
        if self.folder.is_dir():
            try:
                same = json.loads(stamp.read_text()) == self.request
            except (OSError, ValueError):
                same = False
            if not same:
                log.warning("%s was made for another request: its pieces are discarded", self.folder)
                shutil.rmtree(self.folder)
        elif self.folder.exists():
            raise InputError(
                "a file is in the way: the finished pieces of the job are kept in a folder of that name",
                path=self.folder,
                fix="Move that file away, or write the output elsewhere",
            )
        self.folder.mkdir(exist_ok=True)
        if not stamp.exists():
            with atomic_output(stamp, "w") as handle:
                json.dump(self.request, handle, indent=1)
        return sum(1 for _ in self.folder.glob(f"piece-*{self.suffix}"))  # temporaries start with "."

    def path(self, index: int) -> Path:
        """Where piece ``index`` lives."""
        return self.folder / f"piece-{index:06d}{self.suffix}"

    def done(self, index: int) -> bool:
        """Whether piece ``index`` is on disk."""
        return self.path(index).exists()

    def remove(self) -> None:
        """Delete the folder (after the outputs are written from it)."""
        shutil.rmtree(self.folder, ignore_errors=True)
