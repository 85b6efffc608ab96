"""Recognise a file's format from its content.

Extensions lie (``.fa.gz`` that is plain text, ``.bed`` with spaces), so
:func:`sniff_format` looks at the first bytes after decompression: the BAM
and CRAM magic, FASTA ``>``, FASTQ ``@``, SAM header tags, the nine columns
of GTF/GFF3 and their attribute styles, the GenBank ``LOCUS`` and EMBL
``ID`` lines, BED's integer columns and
comma/tab-separated tables with a ``sequence`` column. Only when the content
matches nothing does the extension decide, so that the strict reader of the
promised format can name the line that is wrong. A UTF-8 byte-order mark is
skipped for the guess (the readers then say whether they accept it: tables
do, FASTA, FASTQ, BED and GTF/GFF3 name it and refuse the file).

:func:`reject_bom` and :func:`lone_carriage_return` are the content checks
the line-based readers share: a byte-order mark where a format has none,
and a carriage return that is not part of a ``\r\n`` line end (classic Mac
line ends, which would otherwise glue lines together).
"""

from __future__ import annotations

import re

from bioseq.errors import InputError
from bioseq.io.handles import PathOrHandle, input_name, open_input

__all__ = ["FORMATS", "sniff_format", "BOM", "reject_bom", "lone_carriage_return"]

FORMATS = ("fasta", "fastq", "sam", "bam", "cram", "bed", "gtf", "gff3", "genbank", "embl", "table")

_SAM_HEADER = re.compile(rb"^@(HD|SQ|RG|PG|CO)\t")
_GTF_ATTR = re.compile(rb'^\s*\w+ +"?[^";]*"?;')
_HEAD_BYTES = 1 << 16
BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte-order mark that some Windows editors put at the start of a file."""
BOM_FIX = "Remove it, e.g. with: sed -i '1s/^\\xEF\\xBB\\xBF//' FILE"


def sniff_format(source: PathOrHandle) -> str:
    """Name the format of a file from its content.

    Parameters
    ----------
    source : str, os.PathLike or binary handle
        A path (plain, gzip or bgzip) or a handle that supports ``peek``.

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    InputError
        When the file is empty, binary but not BAM/CRAM, or matches no format.
    """
    name = input_name(source)
    with open_input(source) as stream:
        raw_head = stream.peek(_HEAD_BYTES)[:_HEAD_BYTES]
        if raw_head.startswith(b"CRAM"):
            return "cram"
        if raw_head.startswith(b"BAM\x01"):
            return "bam"
        if not raw_head.strip():
            raise InputError("the file is empty", path=name, fix="Check that it was written completely")
        if b"\x00" in raw_head and not raw_head.startswith((b">", b"@")):
            raise InputError(
                "this is a binary file of an unknown format",
                path=name,
                fix="bioseq reads FASTA, FASTQ, SAM/BAM/CRAM, BED, GTF/GFF3, GenBank/EMBL and CSV/TSV tables",
            )
    return _sniff_text(raw_head.removeprefix(BOM), name)


def reject_bom(head: bytes, *, path: str, what: str) -> None:
    """Refuse a stream whose first bytes are a UTF-8 byte-order mark.

    Raises
    ------
    InputError
        When ``head`` starts with :data:`BOM`; the message says how to remove it.
    """
    if head.startswith(BOM):
        raise InputError(
            f"the file starts with a byte-order mark (BOM), which {what} does not allow", path=path, line=1, fix=BOM_FIX
        )


def lone_carriage_return(*, path: str, line: int, record: str | None = None, column: int | None = None) -> InputError:
    """The error for a ``\r`` that is not followed by ``\n`` (1-based ``line`` and ``column``)."""
    where = f" in column {column}" if column is not None else ""
    return InputError(
        f"a carriage return ('\\r'){where} is not followed by a line feed",
        path=path,
        line=line,
        record=record,
        fix="The file has classic Mac (CR-only) line ends; convert them, e.g. with: tr '\\r' '\\n' < FILE > FIXED",
    )


_EXTENSIONS = {
    ".fa": "fasta",
    ".fasta": "fasta",
    ".fna": "fasta",
    ".fas": "fasta",
    ".fq": "fastq",
    ".fastq": "fastq",
    ".sam": "sam",
    ".bed": "bed",
    ".narrowpeak": "bed",
    ".gtf": "gtf",
    ".gff": "gff3",
    ".gff3": "gff3",
    ".gb": "genbank",
    ".gbk": "genbank",
    ".gbff": "genbank",
    ".genbank": "genbank",
    ".embl": "embl",
    ".csv": "table",
    ".tsv": "table",
}


def _by_extension(name: str) -> str | None:
    """The format a file name promises (``.gz``/``.bgz`` stripped), if any."""
    lowered = name.lower()
    for suffix in (".gz", ".bgz"):
        lowered = lowered.removesuffix(suffix)
    return next((fmt for ext, fmt in _EXTENSIONS.items() if lowered.endswith(ext)), None)


def _sniff_text(head: bytes, name: str) -> str:
    lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
    if len(head) == _HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(b"##gff-version 3"):
            return "gff3"
        if stripped.startswith((b"#", b"track", b"browser")):
            continue
        guess = _classify_line(line)
        if guess:
            return guess
        spaced = _classify_line(b"\t".join(line.split(None, 8)))
        if spaced in ("bed", "gtf", "gff3", "sam"):
            raise InputError(
                f"this line looks like {spaced.upper()} but its columns are separated by spaces, not tabs",
                path=name,
                line=lines.index(line) + 1,
                fix="Separate the columns with single tabs",
            )
        break
    promised = _by_extension(name)
    if promised is not None:
        return promised  # its strict reader names the line that is wrong
    raise InputError(
        "cannot tell the file's format from its first lines",
        path=name,
        fix="bioseq reads FASTA, FASTQ, SAM/BAM/CRAM, BED, GTF/GFF3, GenBank/EMBL and CSV/TSV tables "
        "with a header naming a 'sequence' column",
    )


def _classify_line(line: bytes) -> str | None:
    if line.startswith((b"LOCUS ", b"LOCUS\t")):
        return "genbank"
    if line.startswith(b"ID   "):
        return "embl"
    if line.startswith(b">"):
        return "fasta"
    if _SAM_HEADER.match(line):
        return "sam"
    if line.startswith(b"@"):
        return "fastq"
    fields = line.split(b"\t")
    if len(fields) >= 11 and fields[1].isdigit() and fields[3].isdigit():
        return "sam"
    if len(fields) in (8, 9) and fields[3].isdigit() and fields[4].isdigit():
        if len(fields) == 9 and _GTF_ATTR.match(fields[8]):
            return "gtf"
        return "gff3"
    if len(fields) >= 3 and fields[1].strip().isdigit() and fields[2].strip().isdigit():
        return "bed"
    header = [f.strip().strip(b'"').lower() for f in re.split(rb"[,\t]", line)]
    if b"sequence" in header or b"seq" in header:
        return "table"
    return None
