"""Genomic intervals: 0-based, half-open, stranded.

An :class:`Interval` covers the bases ``start, start + 1, ..., end - 1`` of
``chrom``, as in BED files and Python slices (so ``end - start`` is its
length, and the 1-based, inclusive region ``chr1:11-20`` is
``Interval("chr1", 10, 20)``). Strand is ``"+"``, ``"-"`` or ``"."``
(unstranded). Operations that depend on direction (:meth:`Interval.resize`
anchored at the start, :meth:`Interval.flank` upstream/downstream) follow the
strand; an unstranded interval behaves as ``+``.

Windows are never silently shortened: resizing a window near the start of a
contig may give a negative ``start``, meaning the window hangs off the contig;
:meth:`bioseq.io.reference.Reference.fetch` pads such positions with N. File
readers reject negative coordinates in their input.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from bioseq.errors import InputError

__all__ = ["Interval", "parse_region", "window_name", "chromosome_of"]

_STRANDS = ("+", "-", ".")
# chrom:start-end(strand), 0-based half-open, optionally _shuf<k> for a shuffle of that window
_WINDOW_NAME = re.compile(r"^(?P<chrom>[^:\s]+):(?P<start>-?\d+)-(?P<end>-?\d+)(?:\([+\-.]\))?(?:_shuf\d+)?$")
_REGION = re.compile(r"^(?P<chrom>[^\s:]+(?::[^\s:]+)*?)(?::(?P<start>[\d,]+)(?:-(?P<end>[\d,]+))?)?$")


@dataclasses.dataclass(frozen=True, slots=True)
class Interval:
    """A stranded genomic interval, 0-based half-open.

    Parameters
    ----------
    chrom : str
        Contig name.
    start, end : int
        0-based start (inclusive) and end (exclusive); ``0 <= start <= end``.
    strand : {"+", "-", "."}, default "."
    name : str, default ""
    score : float, optional

    Examples
    --------
    >>> Interval("chr1", 10, 20, strand="-").resize(4)
    Interval(chrom='chr1', start=13, end=17, strand='-', name='', score=None)
    """

    chrom: str
    start: int
    end: int
    strand: str = "."
    name: str = ""
    score: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.chrom, str) or not self.chrom:
            raise InputError(f"interval contig name must be a non-empty string, got {self.chrom!r}")
        for field in ("start", "end"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int):
                try:
                    object.__setattr__(self, field, _as_int(value))
                except (TypeError, ValueError):
                    raise InputError(f"interval {field} must be an integer, got {value!r}") from None
        if self.end < self.start:
            raise InputError(
                f"interval {self.chrom}:{self.start}-{self.end} ends before it starts",
                fix="Coordinates are 0-based half-open (BED style): start <= end",
            )
        if self.strand not in _STRANDS:
            raise InputError(f"strand must be '+', '-' or '.', got {self.strand!r}")

    def __len__(self) -> int:
        return self.end - self.start

    @property
    def center(self) -> int:
        """The 0-based position of the centre base (the left one for even lengths on '+')."""
        if self.strand == "-":
            return self.start + len(self) // 2 - (1 if len(self) % 2 == 0 and len(self) else 0)
        return self.start + len(self) // 2

    @property
    def five_prime(self) -> int:
        """The 0-based position of the first base on the interval's strand."""
        return self.end - 1 if self.strand == "-" else self.start

    def resize(self, width: int, *, anchor: Literal["center", "start", "end"] = "center") -> Interval:
        """Return an interval of ``width`` bases kept around an anchor.

        ``anchor="start"`` keeps the 5' end on the interval's strand (the TSS
        of a transcript), ``"end"`` the 3' end, ``"center"`` the midpoint.
        The result always has ``width`` bases; near a contig start its
        ``start`` may be negative (see the module docstring).
        """
        if width < 0:
            raise InputError(f"width must be >= 0, got {width}")
        if anchor == "center":
            mid2 = self.start + self.end  # twice the midpoint, keeps halves exact
            start = (mid2 - width) // 2 if self.strand != "-" else (mid2 - width + 1) // 2
        elif anchor == "start":
            start = self.start if self.strand != "-" else self.end - width
        elif anchor == "end":
            start = self.end - width if self.strand != "-" else self.start
        else:
            raise InputError(f"anchor must be 'center', 'start' or 'end', got {anchor!r}")
        return dataclasses.replace(self, start=start, end=start + width)

    def flank(self, upstream: int = 0, downstream: int = 0) -> Interval:
        """Extend by ``upstream`` bases 5' and ``downstream`` bases 3' (strand-aware).

        Negative values shrink; ``start`` may become negative (see the
        module docstring).
        """
        left, right = (upstream, downstream) if self.strand != "-" else (downstream, upstream)
        start, end = self.start - left, self.end + right
        if end < start:
            raise InputError(f"flank({upstream}, {downstream}) leaves a negative length")
        return dataclasses.replace(self, start=start, end=end)

    def shift(self, offset: int) -> Interval:
        """Move ``offset`` bases downstream (towards 3' on the interval's strand)."""
        step = -offset if self.strand == "-" else offset
        return dataclasses.replace(self, start=self.start + step, end=self.end + step)

    def to_region(self) -> str:
        """The 1-based inclusive region string (``samtools faidx`` style)."""
        return f"{self.chrom}:{self.start + 1}-{self.end}"


def _as_int(value) -> int:
    as_int = int(value)
    if as_int != value:
        raise ValueError(value)
    return as_int


def parse_region(region: str) -> tuple[str, int, int | None]:
    """Parse a 1-based inclusive region string into 0-based half-open coordinates.

    Accepts ``chr1`` (the whole contig), ``chr1:11`` (from base 11 to the
    end), ``chr1:11-20`` and commas in numbers (``chr1:1,000-2,000``), as
    ``samtools faidx`` does.

    Parameters
    ----------
    region : str

    Returns
    -------
    chrom : str
    start : int
        0-based start.
    end : int or None
        0-based exclusive end; ``None`` means the end of the contig.

    Raises
    ------
    InputError
        On a string that is not a region, or ``START < 1`` or ``END < START``.

    Examples
    --------
    >>> parse_region("chr1:11-20")
    ('chr1', 10, 20)
    >>> parse_region("chrM")
    ('chrM', 0, None)
    """
    match = _REGION.match(region.strip()) if isinstance(region, str) else None
    if not match:
        raise InputError(
            f"cannot read region {region!r}",
            fix="Write it as CHROM, CHROM:START or CHROM:START-END (1-based, inclusive)",
        )
    chrom = match["chrom"]
    if match["start"] is None:
        return chrom, 0, None
    start = int(match["start"].replace(",", ""))
    end = int(match["end"].replace(",", "")) if match["end"] else None
    if start < 1 or (end is not None and end < start):
        raise InputError(
            f"region {region!r} needs 1 <= START <= END",
            fix="Region strings are 1-based and inclusive, e.g. chr1:11-20",
        )
    return chrom, start - 1, end


def window_name(window: Interval) -> str:
    """The name of a window: ``chrom:start-end(strand)``, 0-based half-open.

    Raises
    ------
    InputError
        When ``window`` is not an :class:`~bioseq.io.interval.Interval`.

    Examples
    --------
    >>> window_name(Interval("chr2L", 7428, 7628, "+"))
    'chr2L:7428-7628(+)'
    """
    if not isinstance(window, Interval):
        raise InputError(f"window must be an Interval, got {type(window).__name__}")
    return f"{window.chrom}:{window.start}-{window.end}({window.strand})"


def chromosome_of(name: str) -> str | None:
    """The chromosome of an example named by its window, or None when the name is no window name.

    Window names are ``chrom:start-end(strand)`` (:func:`window_name`); a
    dinucleotide shuffle of a window is ``<window>_shuf<k>`` and parses as
    its source window.

    Examples
    --------
    >>> chromosome_of("chr2L:-20-180(-)"), chromosome_of("chr2L:10-210(+)_shuf2"), chromosome_of("seq7")
    ('chr2L', 'chr2L', None)
    """
    match = _WINDOW_NAME.match(name) if isinstance(name, str) else None
    return None if match is None else match["chrom"]
