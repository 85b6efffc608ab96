"""Checks of scalar arguments at public boundaries, each failing with one clear InputError.

Shared by the functions that take counts, sizes, ratios, shares, switches and
decision thresholds from users (dataset builders, background sampling,
inference options, prediction tables), so that every one words the same
problem the same way. Integers are Python ``int`` or any type with
``__index__`` (numpy integers), never ``bool``; numbers are any
:class:`numbers.Real` except ``bool``.
"""

from __future__ import annotations

import math
import numbers
import operator

from bioseq.errors import InputError

__all__ = ["boolean", "check_threshold", "integer", "is_integer", "positive_integer", "positive_number", "share"]


def is_integer(value) -> bool:
    """Whether ``value`` is an integer (``int``, a numpy integer, anything with ``__index__``) but not a ``bool``.

    Examples
    --------
    >>> is_integer(3), is_integer(True), is_integer(3.0)
    (True, False, False)
    """
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def integer(value, what: str, minimum: int) -> int:
    """``value`` as an ``int`` (any integer type, not ``bool``) that is at least ``minimum``.

    Raises
    ------
    InputError
        ``"<what> must be an integer, got ..."`` or ``"<what> must be >= <minimum>, got ..."``.
    """
    if not is_integer(value):
        raise InputError(f"{what} must be an integer, got {value!r}")
    value = operator.index(value)
    if value < minimum:
        raise InputError(f"{what} must be >= {minimum}, got {value}")
    return value


def positive_integer(value, what: str) -> int:
    """``value`` as an ``int`` of at least 1 (any integer type, not ``bool``): a count or a size.

    Raises
    ------
    InputError
        ``"<what> must be a positive integer, got ..."``.
    """
    if not is_integer(value) or operator.index(value) < 1:
        raise InputError(f"{what} must be a positive integer, got {value!r}")
    return operator.index(value)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def positive_number(value, what: str) -> float:
    """``value`` as a finite ``float`` above 0 (``bool`` refused)."""
    if not _is_number(value) or not 0 < value < math.inf:
        raise InputError(f"{what} must be a positive number, got {value!r}")
    return float(value)


def share(value, what: str) -> float:
    """``value`` as a ``float`` in [0, 1] (``bool`` refused)."""
    if not _is_number(value) or not 0 <= value <= 1:
        raise InputError(f"{what} must be a number in [0, 1], got {value!r}")
    return float(value)


def boolean(value, what: str) -> bool:
    """``value`` itself when it is ``True`` or ``False``; nothing else (not 0/1, not a numpy boolean).

    Raises
    ------
    InputError
        ``"<what> must be True or False, got ..."``.
    """
    if not isinstance(value, bool):
        raise InputError(f"{what} must be True or False, got {value!r}")
    return value


def check_threshold(threshold) -> float:
    """``threshold`` as a ``float`` strictly between 0 and 1: the probability above which a class is predicted.

    Raises
    ------
    InputError
        ``"threshold must be a number strictly between 0 and 1, got ..."`` (``bool`` and strings refused).
    """
    if not _is_number(threshold) or not 0.0 < threshold < 1.0:
        raise InputError(f"threshold must be a number strictly between 0 and 1, got {threshold!r}")
    return float(threshold)
