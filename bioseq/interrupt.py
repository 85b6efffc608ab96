"""SIGTERM and SIGINT as an exception, so that a killed command cleans up and says so.

A cluster job is stopped with SIGTERM (``scancel``, a time limit, pre-emption)
and a terminal user presses Ctrl-C (SIGINT). Inside :func:`handle_signals`
either signal raises :class:`Interrupted` in the main thread: ``with`` blocks
unwind, so temporary ``.part`` files are removed and no half-written output is
left, and the ``bioseq`` command exits with ``128 + signal`` (143 for SIGTERM,
130 for SIGINT), the status a shell, SLURM and Snakemake read as "killed".

Training must not stop in the middle of an optimiser step. Inside
:func:`deferred` the first signal is only recorded (:func:`pending`); the
training loop checks it after each step, saves a checkpoint and raises
:class:`Interrupted` itself (:func:`raise_pending`). A second signal raises at
once.

Handlers can only be installed from the main thread; elsewhere (a worker
thread, a notebook kernel's executor) these context managers change nothing.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

__all__ = ["Interrupted", "SIGNALS", "handle_signals", "deferred", "pending", "raise_pending", "reinstall"]

SIGNALS = (signal.SIGTERM, signal.SIGINT)
"""The signals turned into :class:`Interrupted`."""

log = logging.getLogger(__name__)

_state = {"pending": None, "defer": 0}


class Interrupted(BaseException):
    """The process received SIGTERM or SIGINT.

    A ``BaseException`` (like ``KeyboardInterrupt``), so ``except Exception``
    blocks let it through. ``note`` says what was saved and how to continue
    (set by the code that handled the stop, e.g. training's checkpoint).

    Parameters
    ----------
    signum : int
        The signal number.
    note : str, optional
    """

    def __init__(self, signum: int, note: str | None = None) -> None:
        self.signum = int(signum)
        self.note = note
        super().__init__(self.message())

    @property
    def signal_name(self) -> str:
        """``"SIGTERM"`` or ``"SIGINT"``."""
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"

    @property
    def exit_status(self) -> int:
        """``128 + signum``: 143 for SIGTERM, 130 for SIGINT."""
        return 128 + self.signum

    def message(self) -> str:
        """One line: ``stopped by SIGTERM`` and the note, if any."""
        return f"stopped by {self.signal_name}" + (f"; {self.note}" if self.note else "")

    def __str__(self) -> str:
        return self.message()


def _handler(signum: int, frame) -> None:
    if _state["defer"] > 0 and _state["pending"] is None:
        _state["pending"] = signum
        log.info("received %s: stopping after the current step", signal.Signals(signum).name)
        return
    raise Interrupted(signum)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """Raise :class:`Interrupted` on SIGTERM and SIGINT inside the block; restore the old handlers after."""
    if not _in_main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum in SIGNALS:
        signal.signal(signum, _handler)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Record the first signal instead of raising (see :func:`pending`); a second one raises.

    Installs the handlers itself (as :func:`handle_signals`), so it also works
    when training is called from Python rather than the ``bioseq`` command.
    A signal still pending when the block ends raises there.
    """
    with handle_signals():
        _state["defer"] += 1
        try:
            yield
        finally:
            _state["defer"] -= 1
        if _state["defer"] == 0:
            raise_pending()


def pending() -> int | None:
    """The signal received inside :func:`deferred` and not acted on yet, or None."""
    return _state["pending"]


def raise_pending(note: str | None = None) -> None:
    """Raise :class:`Interrupted` for the pending signal (and clear it); do nothing when none is pending."""
    signum = _state["pending"]
    if signum is None:
        return
    _state["pending"] = None
    raise Interrupted(signum, note)


def reinstall() -> None:
    """Put bioseq's handler back for every signal (after a library replaced it, e.g. Lightning's SIGTERM)."""
    if _in_main_thread():
        for signum in SIGNALS:
            signal.signal(signum, _handler)
