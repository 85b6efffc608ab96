"""BED and ENCODE narrowPeak files: streaming readers and an atomic writer.

Coordinates are 0-based and half-open, exactly as BED stores them (the
1-based region ``chr1:11-20`` is the BED line ``chr1  10  20``); nothing is
shifted on reading or writing. Zero-length intervals (``start == end``) are
legal.

BED3 to BED6 (:func:`read_bed`) give :class:`~bioseq.io.interval.Interval`,
BED12 (:func:`read_bed12`) :class:`Bed12` and narrowPeak (BED6+4,
:func:`read_narrowpeak`) :class:`NarrowPeak`, both ``Interval`` subclasses
that carry the extra columns; :func:`read_intervals` picks the flavour from
the column count (3 to 6, 10 or 12). Every reader accepts a path or an open handle (plain, gzip or
BGZF), streams line by line in constant memory, skips ``track``,
``browser``, ``#`` and blank lines, and accepts CRLF line ends and trailing
tabs (a lone ``\r``, a byte-order mark and a space in a contig name are
errors). All data lines of one file must have the same number of columns. A
name of ``.`` reads as ``""`` and a score of ``.`` as ``None``;
:func:`write_bed` writes them back as ``.``.

Bad input raises :class:`~bioseq.errors.InputError` naming the file, the
1-based line, the column and the fix.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
from collections.abc import Callable, Iterable, Iterator

from bioseq.errors import InputError
from bioseq.io.handles import (
    PathOrHandle,
    atomic_output,
    check_text,
    input_name,
    open_input,
    text_lines,
)
from bioseq.io.interval import Interval
from bioseq.io.sniff import lone_carriage_return, reject_bom

__all__ = ["Bed12", "NarrowPeak", "read_bed", "read_bed12", "read_narrowpeak", "read_intervals", "write_bed"]

_COLUMNS = (
    "chrom",
    "chromStart",
    "chromEnd",
    "name",
    "score",
    "strand",
    "thickStart",
    "thickEnd",
    "itemRgb",
    "blockCount",
    "blockSizes",
    "blockStarts",
)
_NARROWPEAK_COLUMNS = _COLUMNS[:6] + ("signalValue", "pValue", "qValue", "peak")
_STRAND_FIX = "Strand must be '+', '-' or '.'"


@dataclasses.dataclass(frozen=True, slots=True)
class _BedRecord(Interval):
    """An ``Interval`` with extra BED columns; geometry returns plain intervals."""

    @property
    def interval(self) -> Interval:
        """The plain :class:`Interval` (chrom, start, end, strand, name, score)."""
        return Interval(self.chrom, self.start, self.end, self.strand, self.name, self.score)

    def resize(self, width: int, *, anchor: str = "center") -> Interval:
        """As :meth:`Interval.resize`; returns a plain ``Interval`` (the extra columns do not carry over)."""
        return self.interval.resize(width, anchor=anchor)

    def flank(self, upstream: int = 0, downstream: int = 0) -> Interval:
        """As :meth:`Interval.flank`; returns a plain ``Interval``."""
        return self.interval.flank(upstream, downstream)

    def shift(self, offset: int) -> Interval:
        """As :meth:`Interval.shift`; returns a plain ``Interval``."""
        return self.interval.shift(offset)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Bed12(_BedRecord):
    """A BED12 line: an :class:`Interval` plus thick part, colour and blocks.

    All coordinates are genomic, 0-based half-open (the file's relative
    ``blockStarts`` are added to ``chromStart``).

    Parameters
    ----------
    chrom, start, end, strand, name, score
        As :class:`Interval` (positional); the rest are keyword-only.
    thick_start, thick_end : int
        The thick (coding) part, ``start <= thick_start <= thick_end <= end``.
    item_rgb : tuple of 3 int, default (0, 0, 0)
        Colour, each 0..255.
    blocks : tuple of (int, int)
        Genomic ``(start, end)`` of each block (exon), ascending and not
        overlapping; the first starts at ``start`` and the last ends at ``end``.

    Raises
    ------
    InputError
        When a field breaks one of the rules above.
    """

    thick_start: int
    thick_end: int
    item_rgb: tuple[int, int, int] = (0, 0, 0)
    blocks: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        Interval.__post_init__(self)
        if not self.start <= self.thick_start <= self.thick_end <= self.end:
            raise InputError(
                f"thickStart..thickEnd ({self.thick_start}..{self.thick_end}) is not inside "
                f"chromStart..chromEnd ({self.start}..{self.end}) or ends before it starts",
                fix="Use chromStart <= thickStart <= thickEnd <= chromEnd",
            )
        if len(self.item_rgb) != 3 or not all(0 <= c <= 255 for c in self.item_rgb):
            raise InputError(f"itemRgb {self.item_rgb} is not three values 0..255", fix="Write it as R,G,B or 0")
        _check_blocks(self.blocks, self.start, self.end)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NarrowPeak(_BedRecord):
    """An ENCODE narrowPeak (BED6+4) line: an :class:`Interval` plus peak scores.

    Parameters
    ----------
    chrom, start, end, strand, name, score
        As :class:`Interval` (positional); the rest are keyword-only.
    signal_value : float
        Overall enrichment of the region.
    p_value, q_value : float
        -log10 p- and q-values; -1 when not computed.
    peak : int
        0-based offset of the summit from ``start``, ``0 <= peak < end - start``;
        -1 when no summit was called.

    Raises
    ------
    InputError
        When ``peak`` lies outside the interval.
    """

    signal_value: float
    p_value: float = -1.0
    q_value: float = -1.0
    peak: int = -1

    def __post_init__(self) -> None:
        Interval.__post_init__(self)
        if self.peak != -1 and not 0 <= self.peak < len(self):
            raise InputError(
                f"peak offset {self.peak} is outside the peak of length {len(self)}",
                fix="peak is a 0-based offset from chromStart, or -1 for no summit",
            )

    @property
    def summit(self) -> Interval | None:
        """The 1-bp summit ``[start + peak, start + peak + 1)``, or ``None`` when ``peak == -1``."""
        if self.peak == -1:
            return None
        at = self.start + self.peak
        return Interval(self.chrom, at, at + 1, self.strand, self.name, self.score)


def _check_blocks(blocks: tuple[tuple[int, int], ...], start: int, end: int) -> None:
    if not blocks:
        raise InputError("a BED12 line needs at least one block", fix="Set blockCount >= 1")
    if blocks[0][0] != start:
        raise InputError(
            f"the first block starts {blocks[0][0] - start} bases after chromStart",
            fix="The first blockStart must be 0",
        )
    previous_end = start
    for number, (block_start, block_end) in enumerate(blocks, 1):
        if block_end < block_start or block_start < previous_end:
            raise InputError(
                f"block {number} ({block_start}..{block_end}) overlaps the block before it or has a negative size",
                fix="blockStarts must ascend, blocks must not overlap, blockSizes must be >= 0",
            )
        previous_end = block_end
    if blocks[-1][1] != end:
        raise InputError(
            f"the last block ends at {blocks[-1][1]}, not at chromEnd ({end})",
            fix="The last blockStart + blockSize must equal chromEnd - chromStart",
        )


def read_bed(source: PathOrHandle) -> Iterator[Interval]:
    """Stream a BED file (BED3 to BED6) as intervals, 0-based half-open.

    Parameters
    ----------
    source : str, os.PathLike or file object
        Path or open handle; gzip/BGZF is decompressed.

    Yields
    ------
    Interval
        One per data line. Columns after the sixth (as in BED12 or
        narrowPeak) are ignored; use :func:`read_bed12`,
        :func:`read_narrowpeak` or :func:`read_intervals` to keep them.

    Raises
    ------
    InputError
        On a binary file, fewer than 3 columns, space-separated columns, a
        coordinate that is not a non-negative integer, ``chromEnd <
        chromStart``, a score that is not a number, a bad strand, or a line
        whose column count differs from the first line's.
    """
    return _read(source, _interval, what="BED", columns=None)


def read_bed12(source: PathOrHandle) -> Iterator[Bed12]:
    """Stream a BED12 file as :class:`Bed12` records, 0-based half-open.

    Parameters
    ----------
    source : str, os.PathLike or file object

    Yields
    ------
    Bed12

    Raises
    ------
    InputError
        As :func:`read_bed`; also on a line without 12 columns, blockCount
        not matching the lists, and blocks that overlap, leave the feature,
        do not start at 0 or do not end at chromEnd.
    """
    return _read(source, _bed12, what="BED12", columns=12)


def read_narrowpeak(source: PathOrHandle) -> Iterator[NarrowPeak]:
    """Stream an ENCODE narrowPeak (BED6+4) file as :class:`NarrowPeak` records.

    Parameters
    ----------
    source : str, os.PathLike or file object

    Yields
    ------
    NarrowPeak

    Raises
    ------
    InputError
        As :func:`read_bed`; also on a line without 10 columns, a value that
        is not a number, or a peak offset outside the peak.
    """
    return _read(source, _narrowpeak, what="narrowPeak", columns=10)


def read_intervals(source: PathOrHandle) -> Iterator[Interval]:
    """Stream a BED file, 0-based half-open, choosing the flavour by column count.

    3 to 6 columns give :class:`Interval`, 10 :class:`NarrowPeak`, 12 :class:`Bed12`.

    Parameters
    ----------
    source : str, os.PathLike or file object

    Yields
    ------
    Interval, NarrowPeak or Bed12

    Raises
    ------
    InputError
        As the flavour's reader; also on another column count, or a line
        whose column count differs from the first line's (naming both).
    """
    return _read(source, _by_count, what="BED", columns=None)


def _by_count(fields: list[str]) -> Interval:
    if 3 <= len(fields) <= 6:
        return _interval(fields)
    if len(fields) == 10:
        return _narrowpeak(fields)
    if len(fields) == 12:
        return _bed12(fields)
    raise InputError(
        f"the line has {len(fields)} columns, which is no BED flavour bioseq reads",
        fix="Use BED3-BED6, narrowPeak or BED12, or read 6 columns with read_bed",
    )


def _read(
    source: PathOrHandle, parse: Callable[[list[str]], Interval], *, what: str, columns: int | None
) -> Iterator[Interval]:
    """Yield ``parse(fields)`` for each data line, adding file and line to errors."""
    path = input_name(source)
    with open_input(source) as stream:
        head = stream.peek(4096)[:4096]
        check_text(head, path=path, what=what)
        reject_bom(head, path=path, what=what)
        first_line = first_count = 0
        for number, line in text_lines(stream, path, what="BED"):
            if "\r" in line:  # CR-only line ends: several lines glued into this one
                raise lone_carriage_return(path=path, line=number)
            if not line or line[0] == "#" or (line[0] in "tb" and line.split(None, 1)[0] in ("track", "browser")):
                continue
            fields = line.split("\t")
            try:
                if len(fields) != first_count:  # the first data line, or a bad one
                    _check_columns(fields, line, columns, what)
                    if first_count:
                        raise InputError(
                            f"the line has {len(fields)} columns but line {first_line} has {first_count}",
                            fix="Give every line of the file the same columns",
                        )
                    first_line, first_count = number, len(fields)
                record = parse(fields)
            except InputError as exc:
                raise InputError(exc.problem, path=path, line=number, fix=exc.fix) from None
            yield record


def _check_columns(fields: list[str], line: str, columns: int | None, what: str) -> None:
    needed = columns or 3
    if len(fields) >= needed and (columns is None or len(fields) == columns):
        return
    if len(fields) < needed and len(line.split()) >= needed:
        raise InputError("the columns are separated by spaces, not tabs", fix="Use tabs between BED columns")
    if len(fields) < needed:
        least = "at least chrom, chromStart, chromEnd" if columns is None else f"{columns} tab-separated columns"
        raise InputError(f"the line has {len(fields)} column(s), {what} needs {needed}", fix=f"Give each line {least}")
    raise InputError(
        f"the line has {len(fields)} columns, {what} has {columns}",
        fix="Use read_intervals to pick the flavour from the column count",
    )


def _interval(fields: list[str]) -> Interval:
    """Parse the first six (or fewer) BED columns."""
    chrom = fields[0]
    if not chrom or " " in chrom:
        raise InputError(
            "column 1 (chrom) is empty" if not chrom else f"column 1 (chrom) {chrom!r} holds a space",
            fix="Give every line a contig name without spaces, the columns separated by tabs",
        )
    start, end = fields[1], fields[2]
    start = int(start) if start.isdigit() and start.isascii() else _coord(start, 2)
    end = int(end) if end.isdigit() and end.isascii() else _coord(end, 3)
    if end < start:
        raise InputError(
            f"column 3 (chromEnd, {end}) is less than column 2 (chromStart, {start})",
            fix="BED is 0-based half-open: chromStart <= chromEnd",
        )
    n = len(fields)
    name = fields[3] if n > 3 and fields[3] != "." else ""
    score = _number(fields[4], 5, _COLUMNS) if n > 4 and fields[4] != "." else None
    strand = fields[5] if n > 5 else "."
    if strand not in ("+", "-", "."):
        raise InputError(f"column 6 (strand) is {strand!r}", fix=_STRAND_FIX)
    return Interval(chrom, start, end, strand, name, score)


def _bed12(fields: list[str]) -> Bed12:
    base = _interval(fields)
    start = base.start
    count, sizes, starts = _coord(fields[9], 10), _int_list(fields[10], 11), _int_list(fields[11], 12)
    if not count == len(sizes) == len(starts):
        raise InputError(
            f"column 10 (blockCount) is {count} but blockSizes has {len(sizes)} and blockStarts {len(starts)} values",
            fix="Give blockCount comma-separated blockSizes and blockStarts",
        )
    blocks = tuple((start + s, start + s + size) for s, size in zip(starts, sizes))
    return Bed12(
        base.chrom,
        start,
        base.end,
        base.strand,
        base.name,
        base.score,
        thick_start=_coord(fields[6], 7),
        thick_end=_coord(fields[7], 8),
        item_rgb=_rgb(fields[8]),
        blocks=blocks,
    )


def _narrowpeak(fields: list[str]) -> NarrowPeak:
    base = _interval(fields)
    peak = fields[9]
    return NarrowPeak(
        base.chrom,
        base.start,
        base.end,
        base.strand,
        base.name,
        base.score,
        signal_value=_number(fields[6], 7, _NARROWPEAK_COLUMNS),
        p_value=_number(fields[7], 8, _NARROWPEAK_COLUMNS),
        q_value=_number(fields[8], 9, _NARROWPEAK_COLUMNS),
        peak=-1 if peak == "-1" else _coord(peak, 10, _NARROWPEAK_COLUMNS),
    )


def _coord(text: str, column: int, names: tuple[str, ...] = _COLUMNS) -> int:
    if text.isascii() and text.isdigit():
        return int(text)
    label = f"column {column} ({names[column - 1]})"
    if text[:1] == "-" and text[1:].isascii() and text[1:].isdigit():
        raise InputError(f"{label} is negative ({text})", fix="BED coordinates are 0-based and >= 0")
    fix = "Use tabs between BED columns" if " " in text else "Write it as a whole number"
    raise InputError(f"{label} is {text!r}, not an integer", fix=fix)


def _number(text: str, column: int, names: tuple[str, ...]) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(
            f"column {column} ({names[column - 1]}) is {text!r}, not a number",
            fix="Write a number, or '.' for no score" if column == 5 else None,
        ) from None


def _int_list(text: str, column: int) -> list[int]:
    text = text[:-1] if text.endswith(",") else text
    return [_coord(part, column) for part in text.split(",")] if text else []


def _rgb(text: str) -> tuple[int, int, int]:
    if text == "0":
        return (0, 0, 0)
    parts = text.split(",")
    if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts):
        return tuple(int(p) for p in parts)  # range checked by Bed12
    raise InputError(f"column 9 (itemRgb) is {text!r}", fix="Write it as R,G,B (0..255 each) or 0")


def write_bed(intervals: Iterable[Interval], path: str | os.PathLike, *, columns: int = 6) -> int:
    """Write intervals as BED, atomically (the file appears whole or not at all).

    Coordinates are written as held, 0-based half-open; an empty name and a
    missing score as ``.``. A path ending in ``.gz`` is gzip-compressed.

    Parameters
    ----------
    intervals : iterable of Interval
        For ``columns=12`` every item must be a :class:`Bed12`, for
        ``columns=10`` a :class:`NarrowPeak`.
    path : str or os.PathLike
    columns : {3, 4, 5, 6, 10, 12}, default 6
        BED3 to BED6, narrowPeak or BED12.

    Returns
    -------
    int
        The number of lines written.

    Raises
    ------
    InputError
        On another ``columns``, an item of the wrong type, a negative start
        (a window hanging off its contig), or a tab or line break in a
        contig or name. No file is left behind.
    """
    if columns not in (3, 4, 5, 6, 10, 12):
        raise InputError(f"columns must be 3, 4, 5, 6, 10 or 12, got {columns!r}")
    needed = {10: NarrowPeak, 12: Bed12}.get(columns, Interval)
    count = 0
    with atomic_output(path, "wb") as handle:
        out = gzip.GzipFile(fileobj=handle, mode="wb", mtime=0) if os.fspath(path).endswith(".gz") else handle
        for count, item in enumerate(intervals, 1):
            if not isinstance(item, needed):
                raise InputError(
                    f"item {count} is of type {type(item).__name__}, not {needed.__name__}",
                    fix=f"Pass {needed.__name__} objects for columns={columns}",
                )
            out.write(_format(item, columns, count).encode("utf-8"))
        if out is not handle:
            out.close()
    return count


def _format(item: Interval, columns: int, number: int) -> str:
    if item.start < 0:
        raise InputError(
            f"item {number} ({item.chrom}:{item.start}-{item.end}) starts before 0",
            fix="Clip windows to the contig before writing BED",
        )
    if any(c in text for text in (item.chrom, item.name) for c in "\t\r\n"):
        raise InputError(
            f"item {number} has a tab or line break in {item.chrom!r} or {item.name!r}",
            fix="Remove tabs and line breaks from names",
        )
    score = "." if item.score is None else _format_number(item.score)
    fields = [item.chrom, str(item.start), str(item.end), item.name or ".", score, item.strand]
    if columns == 12:
        sizes = ",".join(str(e - s) for s, e in item.blocks)
        starts = ",".join(str(s - item.start) for s, _ in item.blocks)
        rgb = "0" if item.item_rgb == (0, 0, 0) else ",".join(map(str, item.item_rgb))
        fields += [str(item.thick_start), str(item.thick_end), rgb, str(len(item.blocks)), sizes + ",", starts + ","]
    elif columns == 10:
        fields += [
            _format_number(item.signal_value),
            _format_number(item.p_value),
            _format_number(item.q_value),
            str(item.peak),
        ]
    return "\t".join(fields[:columns]) + "\n"


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
