"""Intervals: 0-based half-open coordinates, strand-aware resize/flank/shift."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bioseq.errors import InputError
from bioseq.io.interval import Interval, parse_region


def test_length_and_region_string():
    # bases 10..19 (0-based) are 1-based 11..20, as samtools writes them
    interval = Interval("chr1", 10, 20)
    assert len(interval) == 10 and interval.to_region() == "chr1:11-20"


@pytest.mark.parametrize(
    ("strand", "anchor", "expected"),
    [
        ("+", "center", (13, 17)),  # midpoint 15: two bases either side
        ("-", "center", (13, 17)),
        ("+", "start", (10, 14)),  # 5' end is the left end on +
        ("-", "start", (16, 20)),  # ... and the right end on -
        ("+", "end", (16, 20)),
        ("-", "end", (10, 14)),
        (".", "start", (10, 14)),  # unstranded behaves as +
    ],
)
def test_resize(strand, anchor, expected):
    got = Interval("c", 10, 20, strand=strand).resize(4, anchor=anchor)
    assert (got.start, got.end, got.strand) == (*expected, strand)


def test_resize_never_shortens_near_contig_start():
    # a 10 bp window around a TSS at base 1 hangs off the contig: start < 0, never clipped
    window = Interval("c", 1, 2, strand="+").resize(10)
    assert len(window) == 10 and window.start == -4


def test_flank_and_shift_follow_strand():
    plus, minus = Interval("c", 10, 20, strand="+"), Interval("c", 10, 20, strand="-")
    assert (plus.flank(2, 3).start, plus.flank(2, 3).end) == (8, 23)  # 2 upstream = left on +
    assert (minus.flank(2, 3).start, minus.flank(2, 3).end) == (7, 22)  # upstream = right on -
    assert (plus.shift(5).start, minus.shift(5).start) == (15, 5)  # downstream


def test_five_prime_and_center():
    assert Interval("c", 10, 20, strand="-").five_prime == 19
    assert Interval("c", 10, 20, strand="+").five_prime == 10
    assert Interval("c", 10, 21).center == 15


@given(st.integers(0, 10_000), st.integers(0, 500), st.integers(0, 300), st.sampled_from("+-."))
def test_resize_keeps_width_and_centre(start, length, width, strand):
    interval = Interval("c", start, start + length, strand=strand)
    resized = interval.resize(width)
    assert len(resized) == width
    # the midpoint moves by at most half a base
    assert abs((resized.start + resized.end) - (interval.start + interval.end)) <= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", 0, 1), "non-empty string"),
        (("c", 5, 2), "ends before it starts"),
        (("c", 1.5, 2), "must be an integer"),
        (("c", 0, 2, "x"), "strand must be"),
    ],
)
def test_invalid_intervals(args, message):
    with pytest.raises(InputError, match=message):
        Interval(*args)


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("chr1:11-20", ("chr1", 10, 20)),
        ("chr1:1,000-2,000", ("chr1", 999, 2000)),
        ("chr1:5", ("chr1", 4, None)),
        ("chrM", ("chrM", 0, None)),
        ("HLA-A*01:01:1-5", ("HLA-A*01:01", 0, 5)),
    ],
)
def test_parse_region(region, expected):
    assert parse_region(region) == expected


@pytest.mark.parametrize("region", ["chr1:0-5", "chr1:10-5", "", "chr 1:1-2"])
def test_parse_region_rejects(region):
    with pytest.raises(InputError, match="region|1-based"):
        parse_region(region)
