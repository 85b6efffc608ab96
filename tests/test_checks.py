"""Tests of bioseq.checks (scalar argument checks)."""

from __future__ import annotations

import numpy as np
import pytest

from bioseq.checks import boolean, check_threshold, integer, is_integer, positive_integer, positive_number, share
from bioseq.errors import InputError


def test_integer_accepts_integer_types_and_refuses_the_rest():
    assert integer(3, "n", 0) == 3 and integer(np.int64(5), "n", 5) == 5
    assert type(integer(np.int32(2), "n", 0)) is int
    for bad in (2.0, "3", None, True):
        with pytest.raises(InputError, match=f"n must be an integer, got {bad!r}"):
            integer(bad, "n", 0)
    with pytest.raises(InputError, match="length must be >= 1, got 0"):
        integer(0, "length", 1)


def test_positive_number_and_share():
    assert positive_number(2, "ratio") == 2.0 and positive_number(0.5, "ratio") == 0.5
    for bad in (0, -1, float("inf"), float("nan"), True, "1"):
        with pytest.raises(InputError, match="ratio must be a positive number"):
            positive_number(bad, "ratio")
    assert share(0, "f") == 0.0 and share(1, "f") == 1.0
    for bad in (-0.1, 1.5, float("nan"), False, None):
        with pytest.raises(InputError, match=r"f must be a number in \[0, 1\]"):
            share(bad, "f")


def test_is_integer_and_positive_integer():
    assert is_integer(0) and is_integer(np.uint8(7)) and not is_integer(True) and not is_integer(1.0)
    assert positive_integer(np.int64(3), "step") == 3 and type(positive_integer(np.int64(3), "step")) is int
    for bad in (0, -2, 1.0, "1", None, True):
        with pytest.raises(InputError, match=f"step must be a positive integer, got {bad!r}"):
            positive_integer(bad, "step")


def test_boolean_and_threshold():
    assert boolean(True, "rc_average") is True and boolean(False, "rc_average") is False
    for bad in (1, 0, "yes", None, np.True_):
        with pytest.raises(InputError, match="rc_average must be True or False"):
            boolean(bad, "rc_average")
    assert check_threshold(0.9) == 0.9 and check_threshold(np.float32(0.25)) == 0.25
    for bad in (0, 1, 1.5, -0.1, True, float("nan"), "0.5", None):
        with pytest.raises(InputError, match="threshold must be a number strictly between 0 and 1"):
            check_threshold(bad)
