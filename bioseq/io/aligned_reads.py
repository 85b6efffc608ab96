"""Aligned reads from SAM, BAM and CRAM files: records, read counts, coverage.

Data contract
-------------
Coordinates are 0-based and half-open everywhere: a read that covers the
1-based bases 101..150 of ``chr1`` has ``start=100, end=150``. Regions may be
given as a 1-based inclusive string (``"chr1:101-150"``, parsed by
:func:`bioseq.io.interval.parse_region`), an :class:`~bioseq.io.interval.Interval`
or a ``(chrom, start, end)`` tuple in 0-based half-open coordinates.

* :func:`read_alignments` streams :class:`Alignment` records (constant memory).
* :func:`count_reads` returns ``(N,)`` int64 counts, one per interval.
* :func:`coverage` returns ``(L,)`` int32 per-base depth;
  :func:`coverage_many` returns ``(N, L)`` int32 for ``N`` windows of one length.

Reads are filtered on their SAM flags and mapping quality. By default reads
that are unmapped (0x4), secondary (0x100), QC-failed (0x200), duplicates
(0x400) or supplementary (0x800) are skipped (:data:`DEFAULT_EXCLUDE_FLAGS`,
as ``samtools view -F 0xF04``); pass ``exclude_flags=0`` to keep every record.

Files are read with pysam. CRAM files need the reference FASTA they were
compressed against (``reference=``); bioseq never lets htslib download one.
Region queries need an index (``.bai``, ``.csi`` or ``.crai``); when it is
missing and the file is coordinate-sorted in a writable folder, the index is
built next to it, otherwise the error names the ``samtools`` commands to run.
Splice junctions are in :mod:`bioseq.io.splice_junctions`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
import pysam

from bioseq.errors import InputError
from bioseq.io.alignment_source import AlignmentSource, Region, read_filter
from bioseq.io.handles import PathOrHandle
from bioseq.io.interval import Interval, parse_region

__all__ = [
    "DEFAULT_EXCLUDE_FLAGS",
    "Alignment",
    "read_alignments",
    "count_reads",
    "coverage",
    "coverage_many",
]

DEFAULT_EXCLUDE_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800
"""Unmapped, secondary, QC-fail, duplicate and supplementary records (0xF04)."""

_EMPTY_QUALITY = np.zeros(0, dtype=np.uint8)
_RC = str.maketrans("ACGTURYSWKMBDHVNacgturyswkmbdhvn=", "TGCAAYRSWMKVHDBNtgcaayrswmkvhdbn=")


class Alignment(NamedTuple):
    """One aligned read (a SAM record), 0-based half-open; an immutable named tuple.

    Attributes
    ----------
    name : str
        Read name (QNAME).
    chrom : str
        Contig, ``"*"`` for an unplaced read.
    start, end : int
        Reference span ``[start, end)`` of the alignment, deletions and ``N``
        skips included; ``end == start`` for unmapped reads, ``-1`` for
        unplaced ones.
    strand : {"+", "-"}
        ``"-"`` when flag 0x10 is set.
    mapq : int
        Mapping quality (255: unavailable).
    sequence : str
        The bases as stored: for ``"-"`` reads the reverse complement of the
        read as sequenced, unless read with ``as_sequenced=True``. Hard-clipped
        bases are not stored; ``""`` when the file has none (``*``).
    quality : numpy.ndarray, shape ``(len(sequence),)``, dtype uint8
        Phred scores in the orientation of ``sequence``; length 0 when the
        file stores none.
    cigar : str
        CIGAR string, ``"*"`` when absent.
    flags : int
        SAM flags.
    """

    name: str
    chrom: str
    start: int
    end: int
    strand: str
    mapq: int
    sequence: str
    quality: np.ndarray
    cigar: str
    flags: int

    def __eq__(self, other) -> bool:  # tuple equality cannot compare the quality arrays
        return (
            isinstance(other, Alignment)
            and self[:7] == other[:7]
            and self[8:] == other[8:]
            and np.array_equal(self.quality, other.quality)
        )

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = None  # an array field: unhashable, like a list


def read_alignments(
    source: PathOrHandle,
    *,
    region: Region | None = None,
    min_mapq: int = 0,
    exclude_flags: int = DEFAULT_EXCLUDE_FLAGS,
    require_flags: int = 0,
    as_sequenced: bool = False,
    reference: str | os.PathLike | None = None,
) -> Iterator[Alignment]:
    """Stream the reads of a SAM, BAM or CRAM file.

    Parameters
    ----------
    source : str, os.PathLike or file object
        Path of the file, or a handle opened on a file on disk (read again by
        its name, from the start; pipes and ``"-"`` are refused).
    region : str, Interval or (chrom, start, end), optional
        Only reads overlapping this region: a 1-based inclusive string
        (``"chr1:101-150"``, ``"chr1"``) or 0-based half-open coordinates.
        Needs an index (built when missing, see the module docstring).
        Without a region the whole file is read in file order, unplaced
        reads included.
    min_mapq : int, default 0
        Skip reads with a lower mapping quality.
    exclude_flags : int, default :data:`DEFAULT_EXCLUDE_FLAGS`
        Skip reads with any of these flag bits set.
    require_flags : int, default 0
        Skip reads lacking any of these flag bits (e.g. 0x40 for read 1).
    as_sequenced : bool, default False
        Reverse-complement the sequence and reverse the qualities of ``"-"``
        reads, so that they read as the sequencer produced them.
    reference : str or os.PathLike, optional
        FASTA file the CRAM was compressed against; needed for CRAM only.

    Yields
    ------
    Alignment

    Raises
    ------
    MissingFileError
        When the file (or the reference) does not exist.
    MissingContigError
        When the region names a contig the file does not hold.
    InputError
        When the file is not SAM/BAM/CRAM, is truncated or corrupt, a CRAM
        comes without ``reference``, a region query has no index and none can
        be built, or an option is out of range. File errors are raised on
        the call, damage found while reading when it is reached.
    """
    keep = read_filter(min_mapq, exclude_flags, require_flags)
    if not isinstance(as_sequenced, bool):
        raise InputError(f"as_sequenced must be True or False, got {as_sequenced!r}")
    bam = AlignmentSource(source, reference=reference, indexed=region is not None)
    try:
        reads = bam.fetch(*bam.region(region)) if region is not None else bam.all_reads()
    except BaseException:
        bam.close()
        raise
    return _records(bam, reads, keep, as_sequenced)


def _records(bam: AlignmentSource, reads, keep, as_sequenced: bool) -> Iterator[Alignment]:
    names = bam.references
    with bam:
        for read in reads:
            if keep(read):
                yield _to_record(read, names, as_sequenced)


def _to_record(read: pysam.AlignedSegment, names: tuple[str, ...], as_sequenced: bool) -> Alignment:
    sequence = read.query_sequence or ""
    stored = read.query_qualities
    quality = _EMPTY_QUALITY if stored is None else np.frombuffer(stored, dtype=np.uint8)
    flags = read.flag
    if as_sequenced and flags & 0x10:
        sequence = sequence.translate(_RC)[::-1]
        quality = quality[::-1]
    tid, start, end = read.reference_id, read.reference_start, read.reference_end
    return Alignment(
        read.query_name,
        names[tid] if tid >= 0 else "*",
        start,
        start if end is None else end,
        "-" if flags & 0x10 else "+",
        read.mapping_quality,
        sequence,
        quality,
        read.cigarstring or "*",
        flags,
    )


def count_reads(
    source: PathOrHandle,
    intervals: Iterable[Region],
    *,
    min_mapq: int = 0,
    exclude_flags: int = DEFAULT_EXCLUDE_FLAGS,
    require_flags: int = 0,
    strand: str | None = None,
    reference: str | os.PathLike | None = None,
) -> np.ndarray:
    """Count the reads overlapping each interval, as ``samtools view -c`` does.

    A read counts when its reference span ``[start, end)`` overlaps the
    0-based half-open interval by at least one base; the span includes
    deletions and ``N`` skips, so a spliced read counts for an interval
    inside its intron (use :func:`coverage` for aligned bases only). Each
    mate of a pair counts as one read.

    Parameters
    ----------
    source : str, os.PathLike or file object
        Indexed (or indexable) BAM or CRAM file, see :func:`read_alignments`.
    intervals : iterable of Interval, (chrom, start, end) or region string
        Tuples and intervals are 0-based half-open; strings 1-based inclusive.
        Parts of an interval outside the contig hold no reads.
    min_mapq, exclude_flags, require_flags
        Read filters, as in :func:`read_alignments`.
    strand : {None, "same", "opposite"}, default None
        Count only reads whose fragment lies on the same (or opposite) strand
        as the interval; the fragment strand is the strand of read 1 (read 2
        of a pair is flipped), as in stranded RNA-seq. Needs intervals with
        strand ``"+"`` or ``"-"``.
    reference : str or os.PathLike, optional
        FASTA for CRAM files.

    Returns
    -------
    numpy.ndarray, shape ``(N,)``, dtype int64

    Raises
    ------
    MissingContigError
        When an interval names a contig the file does not hold.
    InputError
        As for :func:`read_alignments`, and for a bad ``strand`` or an
        unstranded interval with ``strand`` set.
    """
    keep = read_filter(min_mapq, exclude_flags, require_flags)
    windows = _as_windows(intervals, strand)
    counts = np.zeros(len(windows), dtype=np.int64)
    with AlignmentSource(source, reference=reference, indexed=True) as bam:
        for i, window in enumerate(windows):
            chrom, start, end = bam.region(window)
            reverse = _wanted_reverse(window, strand)
            counts[i] = sum(
                1
                for read in bam.fetch(chrom, start, end)
                if keep(read) and (reverse is None or _fragment_reverse(read.flag) == reverse)
            )
    return counts


def coverage(
    source: PathOrHandle,
    interval: Region,
    *,
    min_mapq: int = 0,
    exclude_flags: int = DEFAULT_EXCLUDE_FLAGS,
    require_flags: int = 0,
    strand: str | None = None,
    deletions: bool = False,
    reference: str | os.PathLike | None = None,
) -> np.ndarray:
    """Per-base read depth over one interval.

    A base is covered by a read when the read aligns a base to it (CIGAR
    ``M``, ``=``, ``X``). Bases skipped by ``N`` (introns) never count;
    deleted bases (``D``) count only with ``deletions=True`` (``samtools
    depth -J``). Every read counts, so the overlapping mates of a pair count
    twice; base qualities are not filtered.

    Parameters
    ----------
    source : str, os.PathLike or file object
        Indexed (or indexable) BAM or CRAM file.
    interval : Interval, (chrom, start, end) or region string
        0-based half-open (tuples, intervals) or 1-based inclusive (strings).
        Positions outside the contig (a negative start, an end past the
        contig) get depth 0. The depth runs left to right on the reference,
        whatever the interval's strand.
    min_mapq, exclude_flags, require_flags, strand
        Read filters, as in :func:`count_reads`.
    deletions : bool, default False
        Count reads over their deleted bases.
    reference : str or os.PathLike, optional
        FASTA for CRAM files.

    Returns
    -------
    numpy.ndarray, shape ``(L,)``, dtype int32
        ``L = end - start``.

    Raises
    ------
    MissingContigError, InputError
        As for :func:`count_reads`.
    """
    return coverage_many(
        source,
        [interval],
        min_mapq=min_mapq,
        exclude_flags=exclude_flags,
        require_flags=require_flags,
        strand=strand,
        deletions=deletions,
        reference=reference,
    )[0]


def coverage_many(
    source: PathOrHandle,
    intervals: Iterable[Region],
    *,
    min_mapq: int = 0,
    exclude_flags: int = DEFAULT_EXCLUDE_FLAGS,
    require_flags: int = 0,
    strand: str | None = None,
    deletions: bool = False,
    reference: str | os.PathLike | None = None,
) -> np.ndarray:
    """Per-base read depth over ``N`` intervals of one length, opening the file once.

    Parameters are those of :func:`coverage`; all intervals must have the same
    length ``L`` (use :meth:`Interval.resize` to make them so).

    Returns
    -------
    numpy.ndarray, shape ``(N, L)``, dtype int32

    Raises
    ------
    MissingContigError, InputError
        As for :func:`coverage`, and when the intervals differ in length.
    """
    keep = read_filter(min_mapq, exclude_flags, require_flags)
    if not isinstance(deletions, bool):
        raise InputError(f"deletions must be True or False, got {deletions!r}")
    windows = _as_windows(intervals, strand)
    with AlignmentSource(source, reference=reference, indexed=True) as bam:
        spans = [bam.region(window, clip=False) for window in windows]
        widths = {end - start for _, start, end in spans}
        if len(widths) > 1:
            i = next(i for i, (_, s, e) in enumerate(spans) if e - s != spans[0][2] - spans[0][1])
            raise InputError(
                f"interval {i + 1} is {spans[i][2] - spans[i][1]} bases long but the first is "
                f"{spans[0][2] - spans[0][1]}; coverage_many needs intervals of one length",
                fix="Resize them first, e.g. [iv.resize(1000) for iv in intervals], or call coverage() on each",
            )
        out = np.zeros((len(spans), widths.pop() if widths else 0), dtype=np.int32)
        for i, (window, (chrom, start, end)) in enumerate(zip(windows, spans)):
            out[i] = _depth(bam, chrom, start, end, keep, _wanted_reverse(window, strand), deletions)
    return out


def _depth(bam, chrom, start, end, keep, reverse, deletions) -> np.ndarray:
    width = end - start
    lo, hi = max(start, 0), min(end, bam.length(chrom))
    starts: list[int] = []
    ends: list[int] = []
    if hi > lo:
        for read in bam.fetch(chrom, lo, hi):
            if keep(read) and (reverse is None or _fragment_reverse(read.flag) == reverse):
                for block_start, block_end in _blocks_with_deletions(read) if deletions else read.get_blocks():
                    starts.append(block_start)
                    ends.append(block_end)
    # a difference array: +1 where a block starts, -1 where it ends, clipped to the window
    first = np.clip(np.asarray(starts, dtype=np.int64) - start, 0, width)
    last = np.clip(np.asarray(ends, dtype=np.int64) - start, 0, width)
    steps = np.bincount(first, minlength=width + 1) - np.bincount(last, minlength=width + 1)
    return np.cumsum(steps[:width]).astype(np.int32)


def _blocks_with_deletions(read: pysam.AlignedSegment) -> list[tuple[int, int]]:
    """Aligned blocks with deletions filled in; ``N`` skips still split them."""
    blocks = []
    pos = block_start = read.reference_start
    for op, length in read.cigartuples or ():
        if op in (0, 2, 7, 8):  # M, D, =, X
            pos += length
        elif op == 3:  # N
            if pos > block_start:
                blocks.append((block_start, pos))
            pos += length
            block_start = pos
    if pos > block_start:
        blocks.append((block_start, pos))
    return blocks


def _fragment_reverse(flags: int) -> bool:
    """The strand of the fragment: read 2 of a pair is flipped to read 1's strand."""
    return bool(flags & 0x10) != bool(flags & 0x81 == 0x81)


def _wanted_reverse(window: Region, strand: str | None) -> bool | None:
    if strand is None:
        return None
    on_minus = window.strand == "-"
    return on_minus if strand == "same" else not on_minus


def _as_windows(intervals: Iterable[Region], strand: str | None) -> list[Region]:
    """Check intervals early: strings stay strings (a whole contig needs the header)."""
    if strand not in (None, "same", "opposite"):
        raise InputError(f"strand must be None, 'same' or 'opposite', got {strand!r}")
    if isinstance(intervals, (str, Interval)):
        raise InputError(
            "intervals must be a list of intervals, got a single one",
            fix="Wrap it in a list, or call coverage() for one interval",
        )
    windows = []
    for i, item in enumerate(intervals, start=1):
        if isinstance(item, str):
            parse_region(item)
        elif isinstance(item, tuple) and len(item) == 3:
            item = Interval(*item)
        elif not isinstance(item, Interval):
            raise InputError(
                f"interval {i} is {item!r}, not an Interval, a (chrom, start, end) tuple or a region string",
                fix="Give 0-based half-open tuples such as ('chr1', 100, 200)",
            )
        if strand is not None and getattr(item, "strand", ".") not in ("+", "-"):
            shown = item if isinstance(item, str) else item.to_region()
            raise InputError(
                f"interval {i} ({shown}) has no strand but strand={strand!r} was asked",
                fix="Give stranded intervals ('+' or '-') or leave strand=None",
            )
        windows.append(item)
    return windows
