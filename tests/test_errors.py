"""The error types: one sentence with file, line, record, problem and fix."""

from __future__ import annotations

import pytest

from bioseq.errors import InputError, MissingContigError, MissingFileError


def test_message_parts_in_order():
    error = InputError("bad base 'J'.", path="a.fa", line=3, record="chr1", fix="Replace it by N")
    assert str(error) == "a.fa, line 3, record 'chr1': bad base 'J'. Replace it by N."
    assert (error.path, error.line, error.record) == ("a.fa", 3, "chr1")


def test_builtin_bases():
    assert isinstance(InputError("x"), ValueError)
    with pytest.raises(KeyError):
        raise MissingContigError("no chrZ", path="r.fa")
    assert str(MissingContigError("no chrZ")) == "no chrZ."  # no KeyError quotes
    assert isinstance(MissingFileError("gone", path="x"), FileNotFoundError)
