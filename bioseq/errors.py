"""Errors raised on bad input.

Every error that a user can cause carries the file, the record or line, what
was wrong and how to fix it, so that the command line can print it as one
sentence without a traceback.

Classes derive from the built-in exception a Python user would expect
(``ValueError``, ``KeyError``, ``FileNotFoundError``), so ``except ValueError``
keeps working.

Fixes that name a parameter
---------------------------
The same function serves a Python caller and a ``bioseq`` command, so a fix
must not say ``Pass length=`` to someone who typed ``bioseq encode``, nor
``--valid`` to someone who called :func:`bioseq.train.train`. A problem or
fix text names a parameter with :func:`option` instead::

    raise InputError("the model reads sequences of any width", path=bundle,
                     fix=f"Pass {option('length', 'N')} (the window width in bp)")

and the text is rendered for whoever called:

* a Python caller reads ``Pass length=N (the window width in bp).``;
* ``bioseq predict`` (which has ``--length``) prints ``Pass --length N ...``;
* a command without such a flag prints the ``otherwise`` text of the option
  (another concrete action, or nothing: the clause is dropped).

The command line knows which flags the running command has:
``bioseq.cli.main`` runs each command inside :func:`command_flags`, which maps
every option's argparse ``dest`` (``label_pattern``) to its flag
(``--label-pattern``). An :class:`InputError` remembers the flags in force
when it was raised, so it prints the same wherever it is caught and
re-raised; :meth:`InputError.render` renders it for given flags explicitly.
``str(error)``, ``error.problem`` and ``error.fix`` are the rendered texts.
Fix texts never spell a bare ``Pass name=`` or a ``--flag`` of a command
that the Python API also reaches (``tests/test_errors.py`` checks the source).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar

__all__ = [
    "BioseqError",
    "InputError",
    "MissingContigError",
    "MissingFileError",
    "option",
    "render_text",
    "command_flags",
    "flags_of",
]

_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters around an option's JSON
_OPTION = re.compile(f"{_OPEN}(.*?){_CLOSE}")
_FLAGS: ContextVar[Mapping[str, str] | None] = ContextVar("bioseq_command_flags", default=None)


def option(
    name: str, value: str | None = None, *, clause: str = "{}", otherwise: str = "", dest: str | None = None
) -> str:
    """Name the parameter ``name`` inside a problem or fix text, for whoever called.

    Parameters
    ----------
    name : str
        The Python parameter (or config field), e.g. ``"label_pattern"``.
    value : str, optional
        An example value, e.g. ``"N"`` or ``"'any'"``.
    clause : str, default ``"{}"``
        The words around the parameter; ``{}`` stands for it, e.g.
        ``", or pass {}"``.
    otherwise : str, default ""
        What a command without this flag shows instead of ``clause``: another
        concrete action, or ``""`` to drop the clause.
    dest : str, optional
        The argparse ``dest`` of the flag when it differs from ``name``
        (e.g. ``width=`` of a function that the command calls ``--length``).

    Returns
    -------
    str
        A placeholder to put into the text; :class:`InputError` renders it as
        ``clause`` around ``name=value`` (Python), around ``--flag value`` (a
        command with the flag), or as ``otherwise``.

    Examples
    --------
    >>> fix = f"Set {option('length', 'N')} to the window width"
    >>> render_text(fix), render_text(fix, {"length": "--length"})
    ('Set length=N to the window width', 'Set --length N to the window width')
    >>> render_text(f"Check the quoting{option('delimiter', clause=', or pass {}')}", {})
    'Check the quoting'
    """
    return _OPEN + json.dumps([name, value, clause, otherwise, dest or name]) + _CLOSE


def render_text(text: str | None, flags: Mapping[str, str] | None = None) -> str | None:
    """Render the :func:`option` placeholders in ``text``.

    ``flags`` maps argparse ``dest`` names to flags (a command's, see
    :func:`flags_of`); ``None`` renders for a Python caller.
    """
    if text is None or _OPEN not in text:
        return text

    def one(match: re.Match) -> str:
        name, value, clause, otherwise, dest = json.loads(match.group(1))
        if flags is None:
            word = f"{name}={value or ''}"
        elif dest in flags:  # a switch (value "True") takes no value on the command line
            word = flags[dest] + (f" {value}" if value and value != "True" else "")
        else:
            return otherwise
        return clause.replace("{}", word)

    return _OPTION.sub(one, text)


def flags_of(parser: argparse.ArgumentParser, args: argparse.Namespace | None = None) -> dict[str, str]:
    """The flags of a parser: ``{dest: "--long-flag"}``.

    With ``args`` (as the parser parsed them), those of the sub-command (and
    sub-sub-command) that ``args`` chose, e.g. ``bioseq dataset promoters``.
    """
    while args is not None:
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        chosen = None if sub is None else getattr(args, sub.dest, None)
        if chosen not in getattr(sub, "choices", {}):
            break
        parser = sub.choices[chosen]
    flags = {}
    for action in parser._actions:
        strings = action.option_strings
        if not strings or action.dest in ("help", argparse.SUPPRESS):
            continue
        canonical = "--" + action.dest.replace("_", "-")
        longs = [s for s in strings if s.startswith("--")]
        flags[action.dest] = canonical if canonical in strings else max(longs or strings, key=len)
    return flags


@contextlib.contextmanager
def command_flags(parser: argparse.ArgumentParser, args: argparse.Namespace | None = None) -> Iterator[dict[str, str]]:
    """Inside the block, errors are rendered for the command line of ``parser`` (see :func:`flags_of`).

    ``bioseq.cli.main`` runs every command inside this block.
    """
    flags = flags_of(parser, args)
    token = _FLAGS.set(flags)
    try:
        yield flags
    finally:
        _FLAGS.reset(token)


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
        What the user can do about it. Name parameters with :func:`option`.

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
        self._problem = problem
        self._fix = fix
        self._flags = _FLAGS.get()  # the command running now, if any
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.record = record
        super().__init__(self._message())

    @property
    def problem(self) -> str:
        """What is wrong, rendered for the caller."""
        return render_text(self._problem, self._flags)

    @property
    def fix(self) -> str | None:
        """What to do about it, rendered for the caller (see :func:`option`)."""
        return render_text(self._fix, self._flags)

    def render(self, flags: Mapping[str, str] | None = None) -> str:
        """The message for a Python caller (``flags=None``) or for a command with ``flags``."""
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record!r}")
        text = _sentence(render_text(self._problem, flags))
        if where:
            text = ", ".join(where) + ": " + text
        fix = render_text(self._fix, flags)
        if fix:
            text += " " + _sentence(fix)
        return text

    def _message(self) -> str:
        return self.render(self._flags)

    def __str__(self) -> str:  # KeyError would otherwise add quotes
        return self._message()


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


class MissingContigError(InputError, KeyError):
    """A contig (chromosome) name that the reference or index does not hold."""


class MissingFileError(InputError, FileNotFoundError):
    """A file that does not exist or cannot be opened."""
