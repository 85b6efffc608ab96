"""GTF and GFF3 readers: annotation files to an :class:`~bioseq.io.annotation.Annotation`.

Both formats are 1-based and inclusive; every feature ``start..end`` becomes
the 0-based half-open ``(start - 1, end)``. The readers accept a path or an
open handle (plain, gzip or BGZF), read the file line by line and hold only
the transcripts in memory. Exons need not be sorted. Lines may end in CRLF.

GTF (GTF2.2: Ensembl, GENCODE, FlyBase, StringTie)
    ``exon`` lines are grouped into transcripts by ``transcript_id`` and into
    genes by ``gene_id`` (both required on ``exon`` and ``CDS`` lines). A
    transcript without ``exon`` lines is built from its ``CDS`` lines (stop
    codons are not added). ``gene`` lines give gene spans; genes without one
    span their transcripts. Names come from ``gene_name`` or ``gene_symbol``,
    biotypes from ``transcript_biotype``/``transcript_type`` (transcripts) and
    ``gene_biotype``/``gene_type`` (genes).
GFF3
    ``exon`` features belong to the transcripts named by their ``Parent``
    (several parents allowed); a transcript belongs to the gene named by its
    own ``Parent``. A transcript without ``exon`` children is built from its
    ``CDS`` children. An ``exon`` or ``CDS`` without ``Parent`` is a
    transcript of its own, named by its ``ID`` (lines sharing an ``ID`` form
    one transcript); an exon whose parent is a gene makes that gene its own
    transcript. Transcripts whose parent is absent from the file get
    ``gene_id`` ``""``. Attributes are URL-decoded; ``###`` and other
    directives are skipped; ``##FASTA`` (or a ``>`` line) ends the
    annotation. Strand ``?`` reads as ``.``. Coordinates are kept as given,
    so a feature across the origin of a circular contig ends past the
    contig length (the GFF3 convention); files that split such a feature
    into two features with distinct IDs (as Biopython's phiX174 export
    does) give two transcripts.

Bad input raises :class:`~bioseq.errors.InputError` naming the file, the
1-based line and the fix: columns separated by spaces or not 9, tabs inside
the attribute column, coordinates that are not positive integers, ``start >
end``, a bad strand, attributes that cannot be parsed, a GTF exon without
``transcript_id`` or ``gene_id``, a transcript whose exons overlap or
lie on two contigs or strands, a space in a contig name, a byte-order mark,
and a ``\r`` that is not part of a ``\r\n`` line end.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from urllib.parse import unquote

from bioseq.errors import InputError
from bioseq.io.annotation import Annotation, Gene, Transcript
from bioseq.io.genbank import genbank_format
from bioseq.io.handles import PathOrHandle, check_text, input_name, open_input, text_lines
from bioseq.io.sniff import lone_carriage_return, reject_bom

__all__ = ["read_gtf", "read_gff3", "read_annotation"]

_GTF_PAIR = r'[\s;]*([^\s";=]+)\s+(?:"([^"\\]*(?:\\.[^"\\]*)*)"|([^\s";]+))\s*(?:;|$)'
_GTF_ATTRIBUTE = re.compile(_GTF_PAIR)
_GTF_ATTRIBUTES = re.compile(f"(?:{_GTF_PAIR})*" + r"[\s;]*")
_GFF3_ATTRIBUTES = re.compile(r"\s*[^\s=;\"]+=")
_FIELDS_FIX = (
    "Give each line 9 tab-separated columns: seqid, source, type, start, end, score, strand, phase, attributes"
)

Lines = Iterable[tuple[int, str]]


def read_gtf(source: PathOrHandle) -> Annotation:
    """Read a GTF file (1-based) into an :class:`Annotation` (0-based half-open).

    Transcripts are built from ``exon`` lines, or from ``CDS`` lines when a
    transcript has no exon line.

    Parameters
    ----------
    source : str, os.PathLike or file object
        Path or open handle; gzip/BGZF is decompressed.

    Returns
    -------
    Annotation

    Raises
    ------
    InputError
        On a binary file or a bad line (see the module docstring).
    """
    return _read(source, "GTF")


def read_gff3(source: PathOrHandle) -> Annotation:
    """Read a GFF3 file (1-based) into an :class:`Annotation` (0-based half-open).

    Transcripts are built from ``exon`` children through ``Parent``, or from
    ``CDS`` children when a transcript has no exon.

    Parameters
    ----------
    source : str, os.PathLike or file object

    Returns
    -------
    Annotation

    Raises
    ------
    InputError
        On a binary file or a bad line (see the module docstring).
    """
    return _read(source, "GFF3")


def read_annotation(source: PathOrHandle) -> Annotation:
    """Read a GTF, GFF3, GenBank or EMBL file, telling them apart from the content.

    A ``##gff-version 3`` directive or ``TAG=VALUE`` attributes on the first
    feature line mean GFF3; ``key "value";`` attributes mean GTF. A first
    line ``LOCUS`` or ``ID`` means GenBank or EMBL, whose features are read by
    :func:`bioseq.io.genbank_annotation.read_genbank_annotation`.

    Parameters
    ----------
    source : str, os.PathLike or file object

    Returns
    -------
    Annotation
        0-based half-open; empty for a file without feature lines.

    Raises
    ------
    InputError
        As :func:`read_gtf`, :func:`read_gff3` or
        :func:`~bioseq.io.genbank_annotation.read_genbank_annotation`.
    """
    return _read(source, None)


def _read(source: PathOrHandle, fmt: str | None) -> Annotation:
    path = input_name(source)
    with open_input(source) as stream:
        head = stream.peek(4096)[:4096]
        if fmt is None and genbank_format(stream) is not None:
            from bioseq.io.genbank_annotation import read_genbank_annotation

            return read_genbank_annotation(stream)
        check_text(head, path=path, what=fmt or "GTF/GFF3")
        reject_bom(head, path=path, what=fmt or "GTF/GFF3")
        lines = text_lines(stream, path, what="GTF/GFF3")
        if fmt is None:
            head, fmt = _sniff(lines)
            lines = itertools.chain(head, lines)
        return _gff3(lines, path) if fmt == "GFF3" else _gtf(lines, path)


def _sniff(lines: Iterator[tuple[int, str]]) -> tuple[list[tuple[int, str]], str]:
    head = []
    for number, line in lines:
        head.append((number, line))
        if line.startswith("##gff-version"):
            return head, "GFF3" if line[len("##gff-version") :].strip().startswith("3") else "GTF"
        fields = line.split("\t")
        if line and line[0] != "#" and len(fields) >= 9 and fields[8] not in ("", "."):
            return head, "GFF3" if _GFF3_ATTRIBUTES.match(fields[8]) else "GTF"
    return head, "GTF"


def _at(exc: InputError, path: str, line: int | None) -> InputError:
    """The same error, placed in ``path`` at ``line``."""
    return InputError(exc.problem, path=path, line=line, record=exc.record, fix=exc.fix)


def _comment(line: str, path: str, number: int) -> bool:
    """True for a blank or ``#`` line, which the readers skip; a lone CR in any line is an error."""
    if "\r" in line:  # CR-only line ends: several lines glued into this one
        raise lone_carriage_return(path=path, line=number)
    return not line or line[0] == "#"


def _columns(line: str, fmt: str) -> tuple[str, str, str, int, int, str, str]:
    """Split and check one feature line; coordinates become 0-based half-open."""
    fields = line.split("\t")
    if len(fields) != 9:
        if len(fields) < 9 and len(line.split()) >= 9:
            raise InputError("the columns are separated by spaces, not tabs", fix="Use tabs between the 9 columns")
        if len(fields) > 9:
            raise InputError(
                f"the line has {len(fields)} tab-separated columns, {fmt} has 9",
                fix="Keep the attributes in the ninth column, separated by '; ', not tabs",
            )
        raise InputError(f"the line has {len(fields)} column(s), {fmt} has 9", fix=_FIELDS_FIX)
    chrom, source, feature, start, end, _, strand, _, attributes = fields
    if not chrom or " " in chrom:
        raise InputError(
            "column 1 (seqid) is empty" if not chrom else f"column 1 (seqid) {chrom!r} holds a space",
            fix="Give every feature a contig name without spaces, the columns separated by tabs",
        )
    start, end = _position(start, 4, "start"), _position(end, 5, "end")
    if start > end:
        raise InputError(
            f"start ({start}) is greater than end ({end})", fix=f"{fmt} is 1-based inclusive: start <= end"
        )
    if strand not in ("+", "-", ".", "?"):
        raise InputError(f"column 7 (strand) is {strand!r}", fix="Strand must be '+', '-' or '.'")
    return chrom, source, feature, start - 1, end, strand.replace("?", "."), attributes


def _position(text: str, column: int, name: str) -> int:
    if text.isdigit() and text.isascii() and (value := int(text)) >= 1:
        return value
    raise InputError(
        f"column {column} ({name}) is {text!r}, not a positive integer",
        fix="GTF/GFF3 coordinates are 1-based whole numbers",
    )


def _gtf_attributes(text: str) -> dict[str, str]:
    """Parse ``key "value"; key value;`` (the first value of a repeated key wins)."""
    if text == ".":
        return {}
    if _GTF_ATTRIBUTES.fullmatch(text) is None:
        position = 0
        while match := _GTF_ATTRIBUTE.match(text, position):
            position = match.end()
        rest = text[position:].strip(" ;")
        fix = (
            "This looks like GFF3: read it with read_gff3"
            if "=" in rest
            else 'Write attributes as key "value"; separated by ";"'
        )
        raise InputError(f"cannot read the attributes from {rest[:40]!r}", fix=fix)
    return {key: quoted or bare for key, quoted, bare in reversed(_GTF_ATTRIBUTE.findall(text))}


def _gff3_attributes(text: str) -> dict[str, list[str]]:
    """Parse ``TAG=VALUE[,VALUE];...`` with URL-decoding."""
    attributes: dict[str, list[str]] = {}
    if text == ".":
        return attributes
    for part in text.split(";"):
        if not part.strip():
            continue
        tag, equals, value = part.partition("=")
        if not equals or not tag.strip():
            fix = (
                "This looks like GTF: read it with read_gtf"
                if '"' in part
                else "Write attributes as TAG=VALUE separated by ';' (escape ';=,' as %3B %3D %2C)"
            )
            raise InputError(f"attribute {part.strip()!r} is not TAG=VALUE", fix=fix)
        attributes.setdefault(unquote(tag.strip()), [unquote(v) for v in value.split(",")])
    return attributes


class _Parts:
    """What the lines say about one transcript so far."""

    __slots__ = ("chrom", "strand", "gene_id", "line", "source", "exons", "cds", "gene_name", "biotype")

    def __init__(self, chrom: str, strand: str, gene_id: str, line: int, source: str) -> None:
        self.chrom, self.strand, self.gene_id, self.line, self.source = chrom, strand, gene_id, line, source
        self.exons: list[tuple[int, int]] = []
        self.cds: list[tuple[int, int]] = []
        self.gene_name = self.biotype = ""

    def check(self, tid: str, chrom: str, strand: str, gene_id: str) -> None:
        if (chrom, strand) != (self.chrom, self.strand):
            raise InputError(
                f"the transcript is on {chrom} {strand} here but on {self.chrom} {self.strand} at line {self.line}",
                record=tid,
                fix="Keep each transcript on one contig and strand, or give the copies distinct ids",
            )
        if gene_id != self.gene_id:
            raise InputError(
                f"the transcript belongs to gene {gene_id!r} here but to {self.gene_id!r} at line {self.line}",
                record=tid,
            )

    def transcript(self, tid: str, path: str) -> Transcript | None:
        exons = self.exons or self.cds
        if not exons:
            return None
        try:
            return Transcript(
                tid, self.gene_id, self.chrom, self.strand, tuple(exons), self.gene_name, self.biotype, self.source
            )
        except InputError as exc:
            raise _at(exc, path, self.line) from None


def _annotation(parts: dict[str, _Parts], genes: Iterable[Gene], path: str) -> Annotation:
    transcripts = [t for tid, p in parts.items() if (t := p.transcript(tid, path)) is not None]
    try:
        return Annotation(transcripts, genes)
    except InputError as exc:
        raise _at(exc, path, None) from None


def _gtf(lines: Lines, path: str) -> Annotation:
    parts: dict[str, _Parts] = {}
    genes: dict[str, Gene] = {}
    for number, line in lines:
        if _comment(line, path, number):
            continue
        try:
            chrom, source, feature, start, end, strand, text = _columns(line, "GTF")
            attrs = _gtf_attributes(text)
            if feature not in ("exon", "CDS", "transcript", "gene"):
                continue
            gene_id = attrs.get("gene_id", "")
            if not gene_id:
                raise InputError(f"the {feature} has no gene_id", fix='Add gene_id "..."; to its attributes')
            if feature == "gene":
                name = attrs.get("gene_name") or attrs.get("gene_symbol", "")
                biotype = attrs.get("gene_biotype") or attrs.get("gene_type", "")
                genes.setdefault(gene_id, Gene(gene_id, chrom, start, end, strand, name, biotype, source))
                continue
            tid = attrs.get("transcript_id", "")
            if not tid:
                raise InputError(
                    f"the {feature} has no transcript_id", fix='Add transcript_id "..."; to its attributes'
                )
            p = parts.get(tid)
            if p is None:
                p = parts[tid] = _Parts(chrom, strand, gene_id, number, source)
                p.gene_name = attrs.get("gene_name") or attrs.get("gene_symbol", "")
                p.biotype = attrs.get("transcript_biotype") or attrs.get("transcript_type", "")
            p.check(tid, chrom, strand, gene_id)
            if feature != "transcript":
                (p.exons if feature == "exon" else p.cds).append((start, end))
        except InputError as exc:
            raise _at(exc, path, number) from None
    return _annotation(parts, genes.values(), path)


class _Feature:
    """A GFF3 feature with an ID (other than a child exon or CDS)."""

    __slots__ = ("type", "chrom", "start", "end", "strand", "parents", "attrs", "source", "line")

    def __init__(
        self,
        ftype: str,
        chrom: str,
        start: int,
        end: int,
        strand: str,
        parents: list[str],
        attrs: dict[str, list[str]],
        source: str,
        line: int,
    ) -> None:
        self.type, self.chrom, self.start, self.end, self.strand = ftype, chrom, start, end, strand
        self.parents, self.attrs, self.source, self.line = parents, attrs, source, line

    def value(self, *keys: str) -> str:
        return next((self.attrs[k][0] for k in keys if k in self.attrs), "")

    def is_gene(self) -> bool:
        return self.type in ("gene", "pseudogene") or self.type.endswith("_gene")


def _gff3(lines: Lines, path: str) -> Annotation:
    features: dict[str, _Feature] = {}
    parts: dict[str, _Parts] = {}
    for number, line in lines:
        if line.startswith(("##FASTA", ">")):
            break
        if _comment(line, path, number):
            continue
        try:
            chrom, source, ftype, start, end, strand, text = _columns(line, "GFF3")
            attrs = _gff3_attributes(text)
            fid = attrs.get("ID", [""])[0]
            parents = [p for p in attrs.get("Parent", []) if p]
            if ftype in ("exon", "CDS"):
                for owner in parents or [fid or f"{ftype}:{number}"]:
                    p = parts.get(owner) or parts.setdefault(owner, _Parts(chrom, strand, "", number, source))
                    p.check(owner, chrom, strand, "")
                    (p.exons if ftype == "exon" else p.cds).append((start, end))
                if parents:
                    continue
            if fid:
                _add_feature(features, fid, _Feature(ftype, chrom, start, end, strand, parents, attrs, source, number))
        except InputError as exc:
            raise _at(exc, path, number) from None
    gene_ids = {fid for fid, f in features.items() if f.is_gene()}
    for tid, p in parts.items():
        _link(tid, p, features, path)
        gene_ids.add(p.gene_id)
    genes = [_gene(gid, features[gid]) for gid in gene_ids if gid in features]
    return _annotation(parts, genes, path)


def _add_feature(features: dict[str, _Feature], fid: str, feature: _Feature) -> None:
    """Record a feature; lines sharing an ID are one feature spanning them all."""
    known = features.setdefault(fid, feature)
    if known is not feature:
        if (known.chrom, known.strand) != (feature.chrom, feature.strand):
            raise InputError(
                f"ID {fid!r} is also used at line {known.line} on another contig or strand",
                fix="Give every feature a distinct ID",
            )
        known.start, known.end = min(known.start, feature.start), max(known.end, feature.end)


def _link(tid: str, p: _Parts, features: dict[str, _Feature], path: str) -> None:
    """Fill in the gene, names and biotype of a transcript from its feature line."""
    f = features.get(tid)
    if f is None:
        return
    if (f.chrom, f.strand) != (p.chrom, p.strand):
        raise InputError(
            f"the transcript is on {f.chrom} {f.strand} but its exons on {p.chrom} {p.strand}",
            path=path,
            line=f.line,
            record=tid,
            fix="Keep a transcript and its exons on one contig and strand",
        )
    p.gene_id = tid if f.is_gene() and not f.parents else (f.parents[0] if f.parents else "")
    gene = features.get(p.gene_id)
    p.gene_name = (gene.value("Name", "gene_name", "gene") if gene else "") or f.value("gene_name", "gene")
    p.biotype = f.value("biotype", "transcript_biotype", "transcript_type") or f.type


def _gene(gid: str, f: _Feature) -> Gene:
    return Gene(
        gid,
        f.chrom,
        f.start,
        f.end,
        f.strand,
        f.value("Name", "gene_name", "gene"),
        f.value("biotype", "gene_biotype", "gene_type"),
        f.source,
    )
