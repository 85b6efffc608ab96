"""Checks of scalar arguments at public boundaries, each failing with one clear InputError.

Shared by the functions that take counts, sizes, ratios and shares from users
(dataset builders, background sampling), so that every one words the same
problem the same way.
"""

from __future__ import annotations

import math
import operator

from bioseq.errors import InputError

__all__ = ["integer", "positive_number", "share"]


def integer(value, what: str, minimum: int) -> int:
    """``value`` as an ``int`` (any integer type, not ``bool``) that is at least ``minimum``.

    Raises
    ------
    InputError
        ``"<what> must be an integer, got ..."`` or ``"<what> must be >= <minimum>, got ..."``.
    """
    try:
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)
    except TypeError:
        raise InputError(f"{what} must be an integer, got {value!r}") from None
    if value < minimum:
        raise InputError(f"{what} must be >= {minimum}, got {value}")
    return value


def positive_number(value, what: str) -> float:
    """``value`` as a finite ``float`` above 0 (``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise InputError(f"{what} must be a positive number, got {value!r}")
    return float(value)


def share(value, what: str) -> float:
    """``value`` as a ``float`` in [0, 1] (``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InputError(f"{what} must be a number in [0, 1], got {value!r}")
    return float(value)
