"""GenBank/EMBL features as genes, transcripts and exons: the :class:`~bioseq.io.annotation.Annotation`
that :mod:`bioseq.io.gff` builds from a GTF or GFF3 file.

Coordinates are 0-based and half-open: the file's ``12..20`` (1-based, inclusive) is ``(11, 20)``.
Contigs are named as in :mod:`bioseq.io.genbank` (the accession with its version, ``NC_001422.1``).

Features
--------
``gene``
    A :class:`~bioseq.io.annotation.Gene` whose id is its ``/locus_tag`` (else its ``/gene``),
    named by ``/gene`` (else the locus tag); biotype ``pseudogene`` with ``/pseudo``.
``mRNA`` and the other RNA features (:data:`TRANSCRIPT_TYPES`: ``ncRNA``, ``rRNA``, ``tRNA``...)
    A :class:`~bioseq.io.annotation.Transcript` whose exons are the parts of its ``join()``.
``CDS``
    A transcript too, unless its gene has an ``mRNA`` (then the mRNA is the transcript, as GTF/GFF3
    CDS lines count only for transcripts without exons): the usual case of bacteria and viruses.

A transcript belongs to the gene with its ``/locus_tag`` (else ``/gene``), whose ``/gene`` names
it; one with neither has no gene (``gene_id`` ``""``), as a GFF3 CDS without ``Parent``.
Transcript ids are ``/transcript_id`` (RNAs) or ``/protein_id`` (CDS), else the locus tag or
gene, else ``TYPE:CONTIG:START-END`` (1-based); a repeated id gets ``_2``, ``_3``... Biotype is
the feature type, source ``GenBank`` or ``EMBL``. Parts that overlap (a ribosomal frameshift, as
in SARS-CoV-2 ORF1ab) merge into one exon.

A CDS-only transcript starts at its start codon, so its "TSS" (as for a GTF/GFF3 transcript built
from CDS lines) is the translation start, not the transcription start.

Locations
---------
Strand
    ``complement()`` is ``-``; a location without strand is ``.``.
Fuzzy ends
    ``<`` and ``>`` ends are kept where the file puts them. A fuzzy 5' end (``<`` on ``+``, ``>``
    on ``-``) is not a transcription start, so the transcript gets ``five_prime_end=False`` and no
    TSS (:meth:`~bioseq.io.annotation.Annotation.tss`); an uncertain boundary *between* two parts
    would give a wrong splice site, so such a feature is left out (counted, see below).
The origin of a circular sequence
    A ``join()`` whose next part starts before the previous one (on ``+``; after it on ``-``), such
    as phiX174's ``join(3981..5386,1..136)``, crosses the origin. It is split there into two
    records: the piece holding the 5' end keeps the id, the other is named ``ID:after_origin``
    (and belongs to gene ``GENE:after_origin``) with ``five_prime_end=False``, so the origin
    never shows up as a TSS and no intron is made across it. The exons are exact; an intron
    that itself spans the origin is lost (there is none in phiX174 or pPCP1).
Left out, counted and logged as one warning per file
    Parts on another record (``X00001.1:1..10``), ``order()`` locations, parts on both strands
    (trans-splicing), between-base locations (``12^13``), unknown positions, parts out of order on
    a linear sequence (or going round a circular one more than once), and uncertain inner
    boundaries. A location Biopython cannot parse, or a part past the end of the sequence, is an
    error naming the record, the feature and the fix.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Iterable

from bioseq.errors import InputError
from bioseq.io.annotation import Annotation, Gene, Transcript
from bioseq.io.genbank import GenBankRecord, read_genbank
from bioseq.io.handles import PathOrHandle, input_name

__all__ = ["AFTER_ORIGIN", "TRANSCRIPT_TYPES", "GenBankAnnotation", "annotate", "read_genbank_annotation"]

AFTER_ORIGIN = ":after_origin"
"""Suffix of the id of the piece of a feature that continues past the origin of a circular sequence."""

TRANSCRIPT_TYPES = frozenset(
    {
        "mRNA",
        "ncRNA",
        "rRNA",
        "tRNA",
        "tmRNA",
        "misc_RNA",
        "precursor_RNA",
        "prim_transcript",
        "snRNA",
        "snoRNA",
        "scRNA",
    }
)
"""Feature types read as transcripts (besides ``CDS``, see the module docstring)."""

logger = logging.getLogger(__name__)

_USED = TRANSCRIPT_TYPES | {"CDS", "gene"}
_SOURCE = {"genbank": "GenBank", "embl": "EMBL"}
_LOCATION_FIX = "Write it in INSDC syntax, e.g. '12..20', 'complement(5..100)' or 'join(12..20,30..40)'"


class _Skip(Exception):
    """A feature left out, for the reason given."""


@dataclasses.dataclass(frozen=True, slots=True)
class GenBankAnnotation:
    """The annotation of the records of a GenBank/EMBL file, and what it took to build it.

    Attributes
    ----------
    annotation : Annotation
        Genes and transcripts, 0-based half-open.
    split : int
        Features split at the origin of a circular sequence.
    left_out : dict of str to int
        Gene/transcript features left out, by reason (see the module docstring).
    """

    annotation: Annotation
    split: int
    left_out: dict[str, int]


def read_genbank_annotation(source: PathOrHandle, *, fmt: str | None = None) -> Annotation:
    """Read the genes and transcripts of a GenBank or EMBL file (0-based half-open).

    Features left out are counted in one logged warning; features split at the origin of a
    circular sequence in one info line (see the module docstring).

    Parameters
    ----------
    source : str, os.PathLike or file object
        Path or open handle; gzip/BGZF is decompressed.
    fmt : {"genbank", "embl"}, optional
        Default: told from the first line.

    Returns
    -------
    Annotation

    Raises
    ------
    InputError
        As :func:`bioseq.io.genbank.read_genbank` and :func:`annotate`.
    """
    path = input_name(source)
    found = annotate(read_genbank(source, fmt=fmt), path=path)
    if found.split:
        logger.info(
            "%s: %d features across the origin of a circular sequence were split there (the piece past "
            "the origin has no TSS)",
            path,
            found.split,
        )
    if found.left_out:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(found.left_out.items(), key=lambda x: -x[1]))
        logger.warning("%s: %d gene/transcript features left out: %s", path, sum(found.left_out.values()), reasons)
    return found.annotation


def annotate(records: Iterable[GenBankRecord], *, path: str | None = None) -> GenBankAnnotation:
    """The genes and transcripts of GenBank/EMBL records (see the module docstring).

    Parameters
    ----------
    records : iterable of GenBankRecord
        As :func:`bioseq.io.genbank.read_genbank` yields them; consumed once.
    path : str, optional
        The file, for error messages.

    Returns
    -------
    GenBankAnnotation

    Raises
    ------
    InputError
        On a gene or transcript feature whose location cannot be read or runs past the end of
        its sequence, or a gene whose transcripts lie on two contigs or strands.
    """
    transcripts: list[Transcript] = []
    genes: list[Gene] = []
    split, left_out, used = 0, Counter(), set()
    for record in records:
        split += _record(record, path, used, transcripts, genes, left_out)
    try:
        annotation = Annotation(transcripts, genes)
    except InputError as exc:
        raise InputError(exc.problem, path=path, record=exc.record, fix=exc.fix) from None
    return GenBankAnnotation(annotation, split, dict(left_out))


def _record(
    record: GenBankRecord,
    path: str | None,
    used_ids: set[str],
    transcripts: list[Transcript],
    genes: list[Gene],
    left_out: Counter,
) -> int:
    """Add the genes and transcripts of one record; return the number of features split at the origin."""
    source = _SOURCE[record.format]
    unreadable = iter(record.unreadable)
    with_mrna = {_gene_key(f) for f in record.features if f.type == "mRNA"} - {""}
    names = {_gene_key(f): _first(f, "gene") for f in record.features if f.type == "gene" and _first(f, "gene")}
    split = 0
    for feature in record.features:
        text = next(unreadable, "?") if feature.location is None else None
        if feature.type not in _USED or (feature.type == "CDS" and _gene_key(feature) in with_mrna):
            continue
        if text is not None:
            raise InputError(
                f"the location {text!r} of a {feature.type} feature cannot be read",
                path=path,
                record=record.contig,
                fix=_LOCATION_FIX,
            )
        try:
            strand, pieces, fuzzy_start = _pieces(feature.location, record, path)
        except _Skip as skip:
            left_out[str(skip)] += 1
            continue
        split += len(pieces) > 1
        key = _gene_key(feature)
        if feature.type == "gene":
            genes += _genes(feature, key, record, strand, pieces, source)
            continue
        tid = _unique(_transcript_id(feature, record, pieces), used_ids)
        name = _first(feature, "gene") or names.get(key) or key
        for k, exons in enumerate(pieces):
            suffix = AFTER_ORIGIN if k else ""
            transcripts.append(
                Transcript(
                    tid + suffix,
                    key + suffix if key else "",
                    record.contig,
                    strand,
                    tuple(exons),
                    name,
                    feature.type,
                    source,
                    five_prime_end=not (k or fuzzy_start),
                )
            )
    return split


def _pieces(location, record: GenBankRecord, path: str | None) -> tuple[str, list[list[tuple[int, int]]], bool]:
    """``(strand, exons of each piece, fuzzy 5' end)``; the first piece holds the 5' end."""
    from Bio.SeqFeature import ExactPosition, UnknownPosition

    parts = location.parts  # in transcription order: complement(join(a,b)) gives b, a
    if getattr(location, "operator", "join") != "join":
        raise _Skip(f"with {location.operator}() locations")
    if any(p.ref or p.ref_db for p in parts):
        raise _Skip("with parts on another record")
    if len({p.strand for p in parts}) > 1:
        raise _Skip("with parts on both strands")
    strand = {1: "+", -1: "-"}.get(parts[0].strand, ".")
    if any(isinstance(pos, UnknownPosition) for p in parts for pos in (p.start, p.end)):
        raise _Skip("with unknown positions")
    for p in parts:
        if int(p.end) > record.length or int(p.start) < 0:
            raise InputError(
                f"a {strand} part {int(p.start) + 1}..{int(p.end)} runs past the end of the "
                f"{record.length:,} bp sequence",
                path=path,
                record=record.contig,
                fix="Correct the feature's location",
            )
        if int(p.end) <= int(p.start):
            raise _Skip("with between-base locations")
    forward = strand != "-"
    for before, after in zip(parts, parts[1:]):  # the inner boundaries, in transcription order
        inner = (before.end, after.start) if forward else (before.start, after.end)
        if not all(isinstance(pos, ExactPosition) for pos in inner):
            raise _Skip("with uncertain inner boundaries")
    pieces = [[parts[0]]]
    for before, after in zip(parts, parts[1:]):
        if after.start < before.start if forward else after.start > before.start:  # a step back: the origin
            pieces.append([])
        pieces[-1].append(after)
    if len(pieces) > 2 or (len(pieces) == 2 and not record.circular):
        raise _Skip("with parts out of order" + ("" if record.circular else " on a linear sequence"))
    fuzzy_start = not isinstance(parts[0].start if forward else parts[0].end, ExactPosition)
    return strand, [_merge((int(p.start), int(p.end)) for p in piece) for piece in pieces], fuzzy_start


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans, overlapping ones merged (touching ones stay apart: they leave no intron)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _genes(feature, key: str, record: GenBankRecord, strand: str, pieces, source: str) -> list[Gene]:
    gid = key or f"gene:{record.contig}:{pieces[0][0][0] + 1}-{pieces[0][-1][1]}"
    name = _first(feature, "gene", "locus_tag")
    biotype = "pseudogene" if "pseudo" in feature.qualifiers else ""
    return [
        Gene(gid + (AFTER_ORIGIN if k else ""), record.contig, exons[0][0], exons[-1][1], strand, name, biotype, source)
        for k, exons in enumerate(pieces)
    ]


def _gene_key(feature) -> str:
    return _first(feature, "locus_tag", "gene")


def _transcript_id(feature, record: GenBankRecord, pieces) -> str:
    own = "protein_id" if feature.type == "CDS" else "transcript_id"
    return (
        _first(feature, own, "locus_tag", "gene")
        or f"{feature.type}:{record.contig}:{pieces[0][0][0] + 1}-{pieces[0][-1][1]}"
    )


def _first(feature, *keys: str) -> str:
    return next((feature.qualifiers[k][0] for k in keys if feature.qualifiers.get(k)), "")


def _unique(tid: str, used: set[str]) -> str:
    candidate, n = tid, 1
    while candidate in used or candidate + AFTER_ORIGIN in used:
        n += 1
        candidate = f"{tid}_{n}"
    used.add(candidate)
    return candidate
