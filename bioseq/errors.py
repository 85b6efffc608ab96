"""Errors raised on bad input.

Every error that a user can cause carries the file, the record or line, what
was wrong and how to fix it, so that the command line can print it as one
sentence without a traceback.

Classes derive from the built-in exception a Python user would expect
(``ValueError``, ``KeyError``, ``FileNotFoundError``), so ``except ValueError``
keeps working.
"""

from __future__ import annotations

import os

__all__ = ["BioseqError", "InputError", "MissingContigError", "MissingFileError"]


class BioseqError(Exception):
    """Base class of every error bioseq raises on purpose."""


class InputError(BioseqError, ValueError):
    """A file, record or argument that bioseq cannot use.

    Parameters
    ----------
    problem : str
        What is wrong, e.g. ``"quality string is 3 characters shorter than the
        sequence"``.
    path : str or os.PathLike, optional
        The file the problem is in.
    line : int, optional
        1-based line number in that file (as an editor shows it).
    record : str, optional
        Name of the record (sequence name, read name, feature id).
    fix : str, optional
        What the user can do about it.

    Examples
    --------
    >>> str(InputError("bad base 'J'", path="a.fa", line=3, record="chr1",
    ...                fix="Replace it by N."))
    "a.fa, line 3, record 'chr1': bad base 'J'. Replace it by N."
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str | os.PathLike | None = None,
        line: int | None = None,
        record: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.record = record
        self.fix = fix
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record!r}")
        text = _sentence(self.problem)
        if where:
            text = ", ".join(where) + ": " + text
        if self.fix:
            text += " " + _sentence(self.fix)
        return text

    def __str__(self) -> str:  # KeyError would otherwise add quotes
        return self._message()


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


class MissingContigError(InputError, KeyError):
    """A contig (chromosome) name that the reference or index does not hold."""


class MissingFileError(InputError, FileNotFoundError):
    """A file that does not exist or cannot be opened."""
