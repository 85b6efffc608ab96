"""Splice junctions from spliced alignments (CIGAR ``N`` operations).

Data contract
-------------
A :class:`Junction` is an intron as 0-based half-open ``[start, end)``: its
first base is the ``G`` of a ``GT..AG`` donor on ``+`` and ``end`` is the
first base of the next exon, so ``end - start`` is the ``N`` length of the
CIGAR and the BED line is ``chrom start end``. Its strand comes, in order of
preference, from

1. the ``XS`` tag (STAR, HISAT2, TopHat: ``+``/``-``, the transcript strand);
2. the ``ts`` tag (minimap2), which is relative to the read: flipped for
   reverse-strand reads;
3. the intron motif read from ``reference``: ``GT..AG``, ``GC..AG`` and
   ``AT..AC`` give ``+``; their reverse complements ``CT..AC``, ``CT..GC``
   and ``GT..AT`` give ``-``;

and is ``"."`` when none decides. Tagged reads vote; a tie falls through to
the motif.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable

import pysam

from bioseq.errors import InputError, MissingContigError, MissingFileError
from bioseq.io.aligned_reads import DEFAULT_EXCLUDE_FLAGS
from bioseq.io.alignment_source import AlignmentSource, Region, read_filter
from bioseq.io.contigs import missing_contig
from bioseq.io.handles import PathOrHandle, atomic_output

__all__ = ["Junction", "junctions", "write_junctions_bed"]

_PLUS_MOTIFS = {("GT", "AG"), ("GC", "AG"), ("AT", "AC")}
_MINUS_MOTIFS = {("CT", "AC"), ("CT", "GC"), ("GT", "AT")}
_FLIP = {"+": "-", "-": "+"}


@dataclasses.dataclass(frozen=True, slots=True)
class Junction:
    """A splice junction: the intron ``[start, end)``, 0-based half-open.

    Attributes
    ----------
    chrom : str
    start, end : int
        First intron base and first base after the intron.
    strand : {"+", "-", "."}
    reads : int
        Reads that splice exactly from ``start`` to ``end`` (each mate counts).
    max_overhang : int
        The largest, over those reads, of the shorter of the two aligned
        blocks (``M``/``=``/``X`` bases) flanking the intron, as in STAR's
        ``SJ.out.tab``; a low value means only short anchors support it.
    """

    chrom: str
    start: int
    end: int
    strand: str
    reads: int
    max_overhang: int


def junctions(
    source: PathOrHandle,
    *,
    region: Region | None = None,
    min_mapq: int = 0,
    min_support: int = 1,
    exclude_flags: int = DEFAULT_EXCLUDE_FLAGS,
    reference=None,
) -> list[Junction]:
    """Collect the splice junctions of a SAM, BAM or CRAM file.

    Parameters
    ----------
    source : str, os.PathLike or file object
        The alignments (see :func:`bioseq.io.aligned_reads.read_alignments`).
    region : str, Interval or (chrom, start, end), optional
        Only introns overlapping this region (1-based string or 0-based
        half-open); needs an index.
    min_mapq : int, default 0
        Ignore reads with a lower mapping quality.
    min_support : int, default 1
        Drop junctions with fewer supporting reads.
    exclude_flags : int, default DEFAULT_EXCLUDE_FLAGS
        Ignore reads with any of these flag bits (secondary, duplicate, ...).
    reference : str, os.PathLike or object with ``fetch(chrom, start, end)``, optional
        Genome for the motif of untagged junctions: a FASTA path (also used
        to decode CRAM), a :class:`pysam.FastaFile` or bioseq's ``Reference``.

    Returns
    -------
    list of Junction
        Sorted by contig (header order), start and end.

    Raises
    ------
    MissingContigError
        When ``region`` names a contig the file lacks, or a junction's contig
        is missing from ``reference``.
    InputError
        As for :func:`~bioseq.io.aligned_reads.read_alignments`, and for
        ``min_support < 1`` or a ``reference`` without ``fetch``.
    """
    keep = read_filter(min_mapq, exclude_flags, 0)
    if isinstance(min_support, bool) or not isinstance(min_support, int) or min_support < 1:
        raise InputError(f"min_support must be an integer >= 1, got {min_support!r}")
    fasta_path, genome = _reference(reference)
    try:
        with AlignmentSource(source, reference=fasta_path, indexed=region is not None) as bam:
            span = None if region is None else bam.region(region)
            tally = _tally(bam.all_reads() if span is None else bam.fetch(*span), keep)
            order = {name: i for i, name in enumerate(bam.references)}
        found = [
            Junction(chrom, start, end, _strand(plus, minus, genome, chrom, start, end, reference), count, overhang)
            for (chrom, start, end), (count, plus, minus, overhang) in tally.items()
            if count >= min_support and (span is None or (start < span[2] and end > span[1]))
        ]
    finally:
        if genome is not None and genome is not reference:
            genome.close()
    return sorted(found, key=lambda j: (order[j.chrom], j.start, j.end))


def _tally(reads, keep) -> dict[tuple[str, int, int], list[int]]:
    """Per intron: [reads, '+' votes, '-' votes, max overhang]."""
    tally: dict[tuple[str, int, int], list[int]] = {}
    for read in reads:
        cigar = read.cigartuples
        if not cigar or len(cigar) < 3 or not keep(read) or all(op != 3 for op, _ in cigar):
            continue
        vote = _tag_strand(read)
        chrom = read.reference_name
        for start, end, overhang in _introns(read.reference_start, cigar):
            entry = tally.setdefault((chrom, start, end), [0, 0, 0, 0])
            entry[0] += 1
            entry[1] += vote == "+"
            entry[2] += vote == "-"
            entry[3] = max(entry[3], overhang)
    return tally


def _introns(pos: int, cigar) -> list[tuple[int, int, int]]:
    """``(start, end, overhang)`` of each ``N`` in a CIGAR starting at ``pos``."""
    introns, anchors, block = [], [], 0
    for op, length in cigar:
        if op in (0, 7, 8):  # M, =, X: aligned bases anchor the junction
            block += length
            pos += length
        elif op == 2:  # D
            pos += length
        elif op == 3:  # N
            introns.append((pos, pos + length))
            anchors.append(block)
            block = 0
            pos += length
    anchors.append(block)
    return [(s, e, min(anchors[i], anchors[i + 1])) for i, (s, e) in enumerate(introns)]


def _tag_strand(read: pysam.AlignedSegment) -> str | None:
    """'+'/'-' from XS (bowtie2's integer XS is no strand), else from ts flipped on '-' reads."""
    if read.has_tag("XS") and (value := read.get_tag("XS")) in ("+", "-"):
        return value
    if read.has_tag("ts") and (value := read.get_tag("ts")) in ("+", "-"):
        return _FLIP[value] if read.is_reverse else value
    return None


def _reference(reference):
    """``(FASTA path for CRAM or None, object with fetch or None)``."""
    if reference is None:
        return None, None
    if isinstance(reference, (str, os.PathLike)):
        path = os.fspath(reference)
        if not os.path.isfile(path):
            raise MissingFileError("the reference FASTA does not exist", path=path)
        try:
            return path, pysam.FastaFile(path)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"pysam cannot open the reference FASTA ({exc})",
                path=path,
                fix="Index it with 'samtools faidx' in a writable folder",
            ) from exc
    if not callable(getattr(reference, "fetch", None)):
        raise InputError(
            f"reference must be a FASTA path or have fetch(chrom, start, end), got {type(reference).__name__}"
        )
    return None, reference


def _strand(plus: int, minus: int, genome, chrom: str, start: int, end: int, reference) -> str:
    """The tag majority, else the intron motif, else '.'."""
    if plus != minus:
        return "+" if plus > minus else "-"
    if genome is None:
        return "."
    try:
        donor = str(genome.fetch(chrom, start, start + 2)).upper()
        acceptor = str(genome.fetch(chrom, end - 2, end)).upper()
    except MissingContigError:
        raise
    except (KeyError, ValueError, IndexError) as exc:
        names = getattr(genome, "references", None) or ()
        raise missing_contig(chrom, names, path=_name(reference), what="the reference") from exc
    if (donor, acceptor) in _PLUS_MOTIFS:
        return "+"
    if (donor, acceptor) in _MINUS_MOTIFS:
        return "-"
    return "."


def _name(reference) -> str:
    if isinstance(reference, (str, os.PathLike)):
        return os.fspath(reference)
    filename = getattr(reference, "filename", None)
    return filename.decode() if isinstance(filename, bytes) else str(filename or type(reference).__name__)


def write_junctions_bed(junctions: Iterable[Junction], path: str | os.PathLike) -> None:
    """Write junctions as BED6: chrom, start, end, name, score = reads, strand.

    Coordinates are 0-based half-open (the intron), names ``JUNC00000001``...
    in the given order. The file appears whole or not at all.

    Parameters
    ----------
    junctions : iterable of Junction
    path : str or os.PathLike

    Raises
    ------
    InputError
        When an item is not a :class:`Junction` (no file is written).
    """
    with atomic_output(path, "w") as out:
        for i, junction in enumerate(junctions, start=1):
            if not isinstance(junction, Junction):
                raise InputError(
                    f"item {i} is a {type(junction).__name__}, not a Junction",
                    path=os.fspath(path),
                    fix="Pass the list that junctions() returned",
                )
            out.write(
                f"{junction.chrom}\t{junction.start}\t{junction.end}\tJUNC{i:08d}\t"
                f"{junction.reads}\t{junction.strand}\n"
            )
