"""Helpers shared by several test modules (``tests/conftest.py`` puts this folder on ``sys.path``)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail with TimeoutError instead of hanging (SIGALRM; the test suite runs on Unix)."""

    def expire(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


TATA_PWM = [
    [0.05, 0.05, 0.05, 0.85],
    [0.85, 0.05, 0.05, 0.05],
    [0.05, 0.05, 0.05, 0.85],
    [0.85, 0.05, 0.05, 0.05],
    [0.80, 0.05, 0.05, 0.10],
    [0.80, 0.05, 0.05, 0.10],
    [0.70, 0.05, 0.15, 0.10],
    [0.30, 0.10, 0.50, 0.10],
]
"""A TATA box as a position weight matrix (rows: positions; columns A, C, G, T probabilities): T A T A A A A G."""
